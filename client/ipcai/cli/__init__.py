"""The `ipcai` command line: detect, watch, cameras, keys, usage, events, video, export, relay.

Each command is one module of this package holding its parser and its handler; `main()` builds
the top parser from them. The connection options, and the one place that turns them into a
client, are in `connection`.

Machine-readable results go to stdout (JSON / JSON lines), everything meant for a person
(progress bar, summary table, warnings) goes to stderr, so `ipcai detect ... | jq` and
`ipcai watch ... >> detections.jsonl` stay clean.

Exit status: 0 success, 1 some work failed or the service refused, 2 bad arguments or
configuration, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import IO

from ipcai import __version__
from ipcai.batch import InputError
from ipcai.cli import (
    cameras,
    detect,
    events,
    export,
    keys,
    relay,
    usage,
    video,
    watch,
    watchlists,
    webhooks,
)
from ipcai.cli.command import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    AddParser,
    Handler,
)
from ipcai.cli.connection import connection_options
from ipcai.errors import ConfigurationError, IpcaiError

# In the order `ipcai --help` lists them.
COMMANDS: tuple[AddParser, ...] = (
    detect.add_parser,
    watch.add_parser,
    cameras.add_parser,
    keys.add_parser,
    usage.add_parser,
    events.add_parser,
    webhooks.add_parser,
    watchlists.add_parser,
    video.add_parser,
    export.add_parser,
    relay.add_parser,
)

logger = logging.getLogger("ipcai")

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ipcai", description="Detect persons, pets and vehicles with the IPC AI service."
    )
    parser.add_argument("--version", action="version", version=f"ipcai {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    connection = connection_options()
    for add_parser in COMMANDS:
        add_parser(commands, connection)
    return parser


def main(
    argv: Sequence[str] | None = None, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(stderr)
    handler.setFormatter(logging.Formatter("ipcai: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if getattr(args, "verbose", False) else logging.WARNING)
    command: Handler = args.handler
    try:
        return command(args, stdout, stderr)
    except (ConfigurationError, InputError) as exc:
        print(f"ipcai: {exc}", file=stderr)
        return EXIT_USAGE
    except IpcaiError as exc:
        print(f"ipcai: {exc}", file=stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `ipcai detect ... | head`: the reader has all it wanted
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    finally:
        logger.removeHandler(handler)
