"""`ipcai events`: camera events (alerts), as a table or JSON, or followed as they start and
end (one JSON line per change, until Ctrl-C / SIGTERM)."""

from __future__ import annotations

import argparse
import threading
from datetime import UTC, datetime
from typing import IO

from ipcai.camera_events import CameraEvent, follow, format_events, list_events
from ipcai.cli import event_feedback
from ipcai.cli.arguments import positive_float, positive_int
from ipcai.cli.command import EXIT_OK, Commands, stop_on_signals, write_line, write_result
from ipcai.cli.connection import client_from


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    events = commands.add_parser(
        "events",
        parents=[connection],
        help="camera events (alerts): list them, or --follow them as they start and end",
        description="ipcai events [--camera ID] [--label person] [--zone NAME] [--since TIME] "
        "[--plate TEXT [--fuzzy]] "
        "[--follow]; ipcai events feedback EVENT_ID false_alarm|confirmed [--note TEXT]",
    )
    events.add_argument(
        "action",
        nargs="*",
        metavar="feedback EVENT_ID VERDICT",
        help="give an event a verdict: false_alarm (teaches its camera) or confirmed",
    )
    events.add_argument("--note", help="a note kept with the verdict (feedback)")
    events.add_argument("--camera", help="only this camera (its id, cam_...)")
    events.add_argument("--label", help="only this class, e.g. person")
    events.add_argument("--zone", help="only events that entered this zone")
    events.add_argument("--since", help="only events started at or after this ISO 8601 time")
    events.add_argument("--plate", help="only vehicle events with this licence plate")
    events.add_argument(
        "--fuzzy", action="store_true", help="--plate also matches one character off"
    )
    events.add_argument("--limit", type=positive_int, default=50, help="how many (default 50)")
    events.add_argument(
        "--follow",
        action="store_true",
        help="keep polling; print one JSON line per event start and end (Ctrl-C stops)",
    )
    events.add_argument(
        "--interval", type=positive_float, default=2.0, help="seconds between polls (follow)"
    )
    events.add_argument("--json", action="store_true", help="JSON instead of a table")
    events.set_defaults(handler=run)


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    if args.action:
        return event_feedback.run(args, stdout, stderr)
    with client_from(args) as client:
        if not args.follow:
            events = list_events(
                client,
                camera=args.camera,
                label=args.label,
                zone=args.zone,
                since=args.since,
                plate=args.plate,
                fuzzy=args.fuzzy,
                limit=args.limit,
            )
            records = {"results": [dict(e.raw) for e in events]}
            write_result(stdout, args.json, records, lambda: format_events(events))
            return EXIT_OK
        stop = threading.Event()
        stop_on_signals(stop)
        # Without --since: the events the service records from now on, whatever their capture
        # time (a replayed recording's events started "ago" by the recording's own clock).
        created_since = None if args.since else datetime.now(UTC).isoformat()
        print("following camera events (Ctrl-C stops)...", file=stderr)

        def changed(kind: str, event: CameraEvent) -> None:
            write_line(stdout, {"change": kind, **event.raw})

        follow(
            client,
            changed,
            stop,
            since=args.since,
            created_since=created_since,
            interval_s=args.interval,
            camera=args.camera,
            label=args.label,
            zone=args.zone,
            plate=args.plate,
            fuzzy=args.fuzzy,
        )
    return EXIT_OK
