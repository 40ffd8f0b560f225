"""`ipcai usage`: the tenant's requests per day and service, and this month's quota."""

from __future__ import annotations

import argparse
from typing import IO

from ipcai.account import format_usage, get_usage
from ipcai.cli.arguments import positive_int
from ipcai.cli.command import EXIT_OK, Commands, write_result
from ipcai.cli.connection import client_from


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    usage = commands.add_parser("usage", parents=[connection], help="requests per day and service")
    usage.add_argument("--days", type=positive_int, default=30, help="last N days (default 30)")
    usage.add_argument("--service", help="only this application type")
    usage.add_argument("--json", action="store_true", help="JSON instead of a table")
    usage.set_defaults(handler=run)


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        usage = get_usage(client, days=args.days, service=args.service)
    write_result(stdout, args.json, usage.raw, lambda: format_usage(usage))
    return EXIT_OK
