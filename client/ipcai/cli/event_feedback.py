"""`ipcai events feedback ID false_alarm|confirmed [--note TEXT]`: say whether a camera event
was right. A false alarm teaches its camera the spot (the service answers with the learned
area); the key needs the `manage` scope."""

from __future__ import annotations

import argparse
from typing import IO

from ipcai.cli.command import EXIT_OK, EXIT_USAGE, write_line
from ipcai.cli.connection import client_from

VERDICTS = ("false_alarm", "confirmed")
USAGE = "usage: ipcai events feedback EVENT_ID false_alarm|confirmed [--note TEXT]"


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    words = list(args.action)
    if len(words) != 3 or words[0] != "feedback" or words[2] not in VERDICTS:
        print(USAGE, file=stderr)
        return EXIT_USAGE
    _, event_id, verdict = words
    with client_from(args) as client:
        answer = client.send_json(
            "POST",
            f"/api/v1/camera-events/{event_id}/feedback",
            {"verdict": verdict, "note": args.note or ""},
        )
    if args.json:
        write_line(stdout, answer)
        return EXIT_OK
    line = f"event {answer['event']}: {answer['verdict']}"
    area = answer.get("learned_area")
    if area:
        box = ", ".join(f"{c:g}" for c in area["box"])
        line += f"; the camera now ignores {area['label']} boxes at [{box}] scoring <= "
        line += f"{area['max_score']:.2f} (learned area {area['id']})"
    print(line, file=stdout)
    return EXIT_OK
