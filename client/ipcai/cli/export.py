"""`ipcai export`: build a COCO, YOLO or Label Studio dataset of archived frames on the service,
show its progress, then download the zip."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from ipcai.cli.arguments import confidence, positive_int
from ipcai.cli.command import EXIT_FAILED, EXIT_OK, Commands, write_line
from ipcai.cli.connection import client_from
from ipcai.text import plural

ARCHIVING_OFF = (
    "ipcai: archiving is off: none of your services saves requests, so there are no frames to "
    "export. Turn it on in the dashboard (Services: 'Save requests (image and response)'), "
    "then send images; requests made before that are not kept."
)


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    export = commands.add_parser(
        "export",
        parents=[connection],
        help="export archived frames as a COCO, YOLO or Label Studio dataset zip",
        description="Builds the export on the service (the key needs events:read), shows its "
        "progress, then downloads the zip. The model's boxes come as pre-labels.",
    )
    export.add_argument("--format", choices=("coco", "yolo", "labelstudio"), default="coco")
    export.add_argument("--service", help="only this application type")
    export.add_argument("--since", help="frames received at or after (ISO 8601)")
    export.add_argument("--until", help="frames received before (ISO 8601)")
    export.add_argument("--classes", help="comma-separated: frames with these classes only")
    export.add_argument("--score-min", type=confidence, help="frames with a detection scored ≥")
    export.add_argument("--score-max", type=confidence, help="... and ≤ this")
    export.add_argument("--sample-size", type=positive_int, help="at most N frames, at random")
    export.add_argument("--seed", type=int, default=0, help="sampling seed (same frames again)")
    export.add_argument(
        "-o", "--output", type=Path, help="zip file to write (default: <format>-<id>.zip)"
    )
    export.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: only when stderr is a terminal)",
    )
    export.set_defaults(handler=run)


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from ipcai.export import download_export, start_export, wait_for_export

    show_progress = stderr.isatty() if args.progress is None else args.progress
    classes = [c.strip() for c in (args.classes or "").split(",") if c.strip()]
    with client_from(args) as client:
        job = start_export(
            client,
            format=args.format,
            service=args.service,
            since=args.since,
            until=args.until,
            classes=classes,
            score_min=args.score_min,
            score_max=args.score_max,
            sample_size=args.sample_size,
            seed=args.seed,
        )
        with tqdm(
            total=100, unit="%", desc="building", file=stderr, disable=not show_progress
        ) as bar:

            def building(current: dict[str, Any]) -> None:
                bar.update(round(current["progress"] * 100) - bar.n)
                bar.set_postfix(frames=current["images"])

            job = wait_for_export(client, job["id"], building)
        if job["images"] == 0 and not job.get("archiving", True):
            # Nothing was ever saved to export: say so before writing a file or a line.
            print(ARCHIVING_OFF, file=stderr)
            return EXIT_FAILED
        output: Path = args.output or Path(f"{args.format}-{job['id']}.zip")
        with tqdm(
            total=job["size_bytes"],
            unit="B",
            unit_scale=True,
            desc="downloading",
            file=stderr,
            disable=not show_progress,
        ) as download_bar:
            download_export(client, job, output, download_bar.update)
    print(
        f"{plural(job['images'], 'frame')}, {plural(job['annotations'], 'pre-label')} "
        f"written to {output}",
        file=stderr,
    )
    write_line(stdout, {"export": job["id"], "path": str(output), "images": job["images"]})
    return EXIT_OK
