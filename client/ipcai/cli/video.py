"""`ipcai video ACTION`: analyse a stored clip (`analyze FILE [--camera ID] [--fps 2]
[--wait]`, with a progress bar while it waits), and list, show or cancel video jobs."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from ipcai import video_jobs as api
from ipcai.cli.arguments import confidence, positive_float, positive_int
from ipcai.cli.command import (
    EXIT_FAILED,
    EXIT_OK,
    Commands,
    json_option,
    stop_on_signals,
    write_result,
)
from ipcai.cli.connection import client_from, connection_options
from ipcai.errors import ConfigurationError

JSON_HELP = "JSON instead of text"
JOB_ID_HELP = "the job's id (from `ipcai video list`)"


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    video = commands.add_parser(
        "video",
        parents=[connection, json_option(JSON_HELP)],
        help="analyse stored video clips: analyze FILE, list, show ID, cancel ID",
        description="ipcai video analyze FILE [--camera ID] [--fps 2] [--wait] | list "
        "[--status S] | show ID [--frames] | cancel ID",
    )
    video.set_defaults(handler=run_list)
    actions = video.add_subparsers(dest="action", help="default: list")
    shared = [connection_options(inherited=True), json_option(JSON_HELP, inherited=True)]

    analyze = actions.add_parser(
        "analyze", parents=shared, help="send a clip and start its analysis"
    )
    analyze.add_argument("file", type=Path, metavar="FILE", help="the video file")
    analyze.add_argument("--camera", help="apply this camera's zones, thresholds and event rules")
    analyze.add_argument(
        "--fps", type=positive_float, default=2.0, help="frames analysed per second (default 2)"
    )
    analyze.add_argument(
        "--service", action="append", help="a service to run (repeatable; default: all yours)"
    )
    analyze.add_argument("--min-confidence", type=confidence, help="score threshold 0..1")
    analyze.add_argument("--wait", action="store_true", help="wait for the result")
    analyze.add_argument(
        "--interval", type=positive_float, default=1.0, help="seconds between polls (--wait)"
    )
    analyze.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar while waiting (default: only when stderr is a terminal)",
    )
    analyze.set_defaults(handler=run_analyze)

    listing = actions.add_parser("list", parents=shared, help="list video jobs, newest first")
    listing.add_argument("--status", help="only jobs in this state (queued, running, ...)")
    listing.add_argument("--camera", help="only jobs of this camera")
    listing.add_argument("--limit", type=positive_int, default=50, help="how many (default 50)")
    listing.set_defaults(handler=run_list)

    show = actions.add_parser("show", parents=shared, help="a job's progress and events")
    show.add_argument("job", metavar="ID", help=JOB_ID_HELP)
    show.add_argument("--frames", action="store_true", help="with detections per frame (JSON)")
    show.set_defaults(handler=run_show)

    cancel = actions.add_parser(
        "cancel", parents=shared, help="cancel a job and delete what it stored"
    )
    cancel.add_argument("job", metavar="ID", help=JOB_ID_HELP)
    cancel.set_defaults(handler=run_cancel)


def _print(job: Mapping[str, Any], args: argparse.Namespace, stdout: IO[str]) -> None:
    write_result(stdout, args.json, job, lambda: api.format_job(job))


def _status(job: Mapping[str, Any]) -> int:
    return EXIT_FAILED if job["status"] in {"failed", "cancelled"} else EXIT_OK


def run_analyze(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    if not args.file.is_file():
        raise ConfigurationError(f"no such file: {args.file}")
    with client_from(args) as client:
        job = api.submit_video(
            client,
            args.file,
            camera=args.camera,
            fps=args.fps,
            services=args.service or (),
            min_confidence=args.min_confidence,
        )
        print(f"video job {job['id']} queued", file=stderr)
        if not args.wait:
            _print(job, args, stdout)
            return EXIT_OK
        show_progress = stderr.isatty() if args.progress is None else args.progress
        bar = tqdm(total=100.0, unit="%", file=stderr, disable=not show_progress,
                   bar_format="{l_bar}{bar}| {n:.0f}% {postfix}")  # fmt: skip
        stop = threading.Event()
        stop_on_signals(stop)

        def progressed(state: Mapping[str, Any]) -> None:
            percent = float(state["progress"]["percent"])
            bar.update(max(0.0, percent - bar.n))  # the service's progress never goes back
            bar.set_postfix_str(
                f"{state['status']}, {state['progress']['media_seconds_done']:.0f} s of video"
            )

        try:
            job = api.wait_for_job(
                client, job["id"], on_progress=progressed, interval_s=args.interval, stop=stop
            )
        finally:
            bar.close()
        _print(job, args, stdout)
        return _status(job)


def run_list(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        jobs = api.list_jobs(
            client,
            status=getattr(args, "status", None),
            camera=getattr(args, "camera", None),
            limit=getattr(args, "limit", 50),
        )
    write_result(
        stdout,
        args.json,
        {"results": jobs},
        lambda: api.format_jobs(jobs) if jobs else "no video jobs",
    )
    return EXIT_OK


def run_show(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        job = api.get_job(client, args.job, frames=args.frames)
    _print(job, args, stdout)
    return EXIT_OK


def run_cancel(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        job = api.cancel_job(client, args.job)
    if job is None:
        write_result(
            stdout, args.json, {"id": args.job, "deleted": True}, f"job {args.job} deleted"
        )
    else:
        _print(job, args, stdout)
    return EXIT_OK
