"""`ipcai keys [ACTION]`: list, create or revoke the tenant's API keys. Each action is its own
subparser (`ipcai keys create --help` shows create's options); the connection options and
--json count before or after the action."""

from __future__ import annotations

import argparse
from typing import IO

from ipcai.account import create_key, format_keys, list_keys, revoke_key
from ipcai.cli.arguments import positive_int
from ipcai.cli.command import EXIT_OK, Commands, json_option, write_result
from ipcai.cli.connection import client_from, connection_options
from ipcai.errors import ConfigurationError

JSON_HELP = "JSON instead of a table"


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    keys = commands.add_parser(
        "keys",
        parents=[connection, json_option(JSON_HELP)],
        help="list, create or revoke the tenant's API keys",
        description="ipcai keys [list] | ipcai keys create --name NAME [--scope detect ...] | "
        "ipcai keys revoke ID",
    )
    keys.set_defaults(handler=run_list)  # `ipcai keys` alone lists them
    actions = keys.add_subparsers(dest="action", help="default: list")
    shared = [connection_options(inherited=True), json_option(JSON_HELP, inherited=True)]

    listing = actions.add_parser(
        "list", parents=shared, help="list the keys", description="list the keys"
    )
    listing.set_defaults(handler=run_list)

    create = actions.add_parser(
        "create",
        parents=shared,
        help="create a key; its secret is shown this once",
        description="Create a key of the tenant; its secret is printed on stdout, only this once.",
    )
    create.add_argument("--name", default="", help="what the key is for")
    create.add_argument(
        "--expires-in-days", type=positive_int, help="the key stops working after N days"
    )
    create.add_argument(
        "--scope",
        action="append",
        dest="scopes",
        choices=("detect", "events:read", "manage"),
        help="repeatable: what the key may do (default: detect only; never more than the key "
        "making the call)",
    )
    create.set_defaults(handler=run_create)

    revoke = actions.add_parser(
        "revoke", parents=shared, help="revoke a key", description="revoke a key"
    )
    revoke.add_argument("key_id", nargs="?", metavar="KEY_ID", help="its id or prefix")
    revoke.set_defaults(handler=run_revoke)


def run_list(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        keys = list_keys(client)
    records = {"keys": [dict(k.raw) for k in keys]}
    write_result(stdout, args.json, records, lambda: format_keys(keys))
    return EXIT_OK


def run_create(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        _key, secret = create_key(
            client, name=args.name, expires_in_days=args.expires_in_days, scopes=args.scopes
        )
    print(
        "The new key is shown only this once; store it now (e.g. in IPCAI_API_KEY):",
        file=stderr,
    )
    print(secret, file=stdout)
    return EXIT_OK


def run_revoke(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        if not args.key_id:
            raise ConfigurationError("keys revoke needs the KEY_ID shown by `ipcai keys`")
        key = revoke_key(client, args.key_id)
    print(f"revoked {key.prefix} ({key.name or 'unnamed'})", file=stderr)
    return EXIT_OK
