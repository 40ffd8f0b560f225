"""`ipcai detect IMAGE...`: images, folders or globs, one JSON line per image in input order and
a summary table on stderr."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import IO

from tqdm import tqdm

from ipcai.batch import ImageOutcome, InputError, detect_many, expand_inputs, summary_table
from ipcai.cli.arguments import DEFAULT_SERVICE, confidence, positive_int
from ipcai.cli.command import EXIT_FAILED, EXIT_OK, Commands, write_line
from ipcai.cli.connection import async_client_from


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    detect = commands.add_parser(
        "detect",
        parents=[connection],
        help="detect objects in images, folders or globs",
        description="Prints one JSON line per image (in input order) and a summary table.",
    )
    detect.add_argument("images", nargs="+", metavar="IMAGE", help="file, folder or glob")
    detect.add_argument("--service", default=DEFAULT_SERVICE, help="application type")
    detect.add_argument("--min-confidence", type=confidence, help="score threshold 0..1")
    detect.add_argument(
        "--slices",
        choices=("auto", "off"),
        help="sliced inference: auto also looks at overlapping slices of each image (distant "
        "objects; more CPU), off never; default as the key's tier says",
    )
    detect.add_argument("--out", type=Path, metavar="DIR", help="write annotated images here")
    detect.add_argument(
        "-j", "--concurrency", type=positive_int, default=4, help="requests in flight"
    )
    detect.add_argument("-r", "--recursive", action="store_true", help="descend into folders")
    detect.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: only when stderr is a terminal)",
    )
    detect.add_argument("--no-summary", action="store_true", help="no summary table")
    detect.set_defaults(handler=run)


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    paths = expand_inputs(args.images, recursive=args.recursive)
    if not paths:
        raise InputError("no images found")
    show_progress = stderr.isatty() if args.progress is None else args.progress
    progress = tqdm(total=len(paths), unit="img", file=stderr, disable=not show_progress)

    def done(outcome: ImageOutcome) -> None:
        write_line(stdout, outcome.to_json())
        progress.update(1)

    async def detect_all() -> list[ImageOutcome]:
        async with async_client_from(args, max_connections=args.concurrency) as client:
            return await detect_many(
                client,
                paths,
                args.service,
                min_confidence=args.min_confidence,
                slices=args.slices,
                concurrency=args.concurrency,
                out_dir=args.out,
                on_done=done,
            )

    try:
        outcomes = asyncio.run(detect_all())
    finally:
        progress.close()
    if not args.no_summary:
        print(summary_table(outcomes), file=stderr)
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED
