"""What every command module shares: the handler's signature, the exit statuses, JSON lines on
stdout and stopping a long-running command on a signal.

A command module (`detect`, `cameras`, ...) has an `add_parser(commands, connection)` that adds
its subparser, with its handler set as the `handler` default, to the top parser.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Callable, Mapping
from typing import IO, Any, TypeAlias

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# The top parser's subcommands, which each command module adds its own parser to.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
# A command's work: the parsed arguments, stdout, stderr -> the exit status.
Handler: TypeAlias = Callable[[argparse.Namespace, IO[str], IO[str]], int]
# A command module's `add_parser(commands, connection options)`.
AddParser: TypeAlias = Callable[[Commands, argparse.ArgumentParser], None]


def write_line(stream: IO[str], record: dict[str, Any]) -> None:
    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    stream.flush()  # a reader (jq, a log shipper, a test) sees each result as it happens


def write_result(
    stream: IO[str], as_json: bool, record: Mapping[str, Any], text: str | Callable[[], str]
) -> None:
    """A command's answer: `record` as one JSON line under --json, else `text` for people
    (a callable is only formatted when it is printed)."""
    if as_json:
        write_line(stream, dict(record))
    else:
        print(text if isinstance(text, str) else text(), file=stream)


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM (systemd, docker stop) and SIGINT end the command after its current step."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())


def json_option(help: str, *, inherited: bool = False) -> argparse.ArgumentParser:
    """A parent parser with --json. `inherited`: for a command's actions, as in
    `connection_options`: `ipcai cameras --json show ID` and `... show ID --json` both count."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS if inherited else False, help=help
    )
    return parent
