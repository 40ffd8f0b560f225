"""`ipcai watch SOURCE`: frames of a camera stream or a video file to the service, detections
as JSON lines, until the file ends, --max-frames, or Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import threading
from functools import partial
from pathlib import Path
from typing import IO

from ipcai.cli.arguments import DEFAULT_SERVICE, confidence, positive_float, positive_int
from ipcai.cli.command import EXIT_OK, Commands, stop_on_signals, write_line
from ipcai.cli.connection import client_from
from ipcai.retry import RetryPolicy
from ipcai.text import plural


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    watch = commands.add_parser(
        "watch",
        parents=[connection],
        help="send frames of a camera stream or video file, print detections as JSON lines",
        description="SOURCE: rtsp://..., http://... (MJPEG, HLS...), a video file, or a "
        "device number. Runs until the file ends, --max-frames, or Ctrl-C / SIGTERM.",
    )
    watch.add_argument("source", metavar="SOURCE")
    watch.add_argument("--service", default=DEFAULT_SERVICE, help="application type")
    watch.add_argument(
        "--fps", type=positive_float, default=2.0, help="most frames sent per second"
    )
    watch.add_argument("--motion", action="store_true", help="send only frames with motion")
    watch.add_argument(
        "--motion-threshold",
        type=confidence,
        default=0.01,
        help="fraction of pixels that must change (default 0.01)",
    )
    watch.add_argument("--min-confidence", type=confidence, help="score threshold 0..1")
    watch.add_argument(
        "--camera", metavar="ID", help="send the frames as this camera (its zones and thresholds)"
    )
    watch.add_argument(
        "--output", type=Path, metavar="FILE", help="append JSON lines here instead of stdout"
    )
    watch.add_argument("--max-frames", type=positive_int, help="stop after N answered frames")
    watch.add_argument("--loop", action="store_true", help="replay a video file forever")
    watch.add_argument(
        "--max-backoff",
        type=positive_float,
        default=30.0,
        help="longest wait between reconnect attempts, seconds",
    )
    watch.set_defaults(handler=run)


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from ipcai.watch import WatchOptions, run_watch  # needs OpenCV: import only when used

    options = WatchOptions(
        service=args.service,
        fps=args.fps,
        min_confidence=args.min_confidence,
        motion=args.motion,
        motion_threshold=args.motion_threshold,
        max_frames=args.max_frames,
        loop=args.loop,
        max_backoff=args.max_backoff,
        camera=args.camera,
    )
    stop = threading.Event()
    stop_on_signals(stop)
    # The watch loop does its own waiting between failures; one quick retry covers a stale
    # keep-alive connection.
    retry = RetryPolicy(max_retries=min(1, max(0, args.retries)), max_retry_after=0)
    with client_from(args, retry=retry) as client:
        if args.output:
            with args.output.open("a", encoding="utf-8") as output:
                stats = run_watch(client, args.source, options, partial(write_line, output), stop)
        else:
            stats = run_watch(client, args.source, options, partial(write_line, stdout), stop)
    print(
        f"{plural(stats.frames_read, 'frame')} read, {stats.frames_sent} answered, "
        f"{stats.frames_without_motion} without motion, "
        f"{plural(stats.failures, 'failed attempt')}",
        file=stderr,
    )
    return EXIT_OK
