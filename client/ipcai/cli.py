"""The `ipcai` command line: detect, watch, cameras, keys, usage, events, relay.

Machine-readable results go to stdout (JSON / JSON lines), everything meant for a person
(progress bar, summary table, warnings) goes to stderr, so `ipcai detect ... | jq` and
`ipcai watch ... >> detections.jsonl` stay clean.

Exit status: 0 success, 1 some work failed or the service refused, 2 bad arguments or
configuration, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from ipcai import __version__
from ipcai.account import format_keys, format_usage
from ipcai.batch import ImageOutcome, InputError, detect_many, expand_inputs, summary_table
from ipcai.client import DEFAULT_TIMEOUT, ENV_API_KEY, ENV_URL, AsyncClient, Client
from ipcai.errors import ConfigurationError, IpcaiError
from ipcai.retry import RetryPolicy
from ipcai.text import plural

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_SERVICE = "persons-detection"

logger = logging.getLogger("ipcai")


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _confidence(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _connection_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection")
    group.add_argument("--url", help=f"service base URL (default: ${ENV_URL} or local portal)")
    group.add_argument(
        "--api-key",
        help=f"API key (default: ${ENV_API_KEY}; prefer the variable: arguments are visible "
        "to other users of the machine)",
    )
    group.add_argument(
        "--timeout", type=_positive_float, default=DEFAULT_TIMEOUT, help="seconds per request"
    )
    group.add_argument(
        "--retries", type=int, default=3, help="retries on 429 / 503 / network errors"
    )
    group.add_argument("-v", "--verbose", action="store_true", help="log retries and reconnects")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ipcai", description="Detect persons, pets and vehicles with the IPC AI service."
    )
    parser.add_argument("--version", action="version", version=f"ipcai {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _connection_options()

    detect = commands.add_parser(
        "detect",
        parents=[common],
        help="detect objects in images, folders or globs",
        description="Prints one JSON line per image (in input order) and a summary table.",
    )
    detect.add_argument("images", nargs="+", metavar="IMAGE", help="file, folder or glob")
    detect.add_argument("--service", default=DEFAULT_SERVICE, help="application type")
    detect.add_argument("--min-confidence", type=_confidence, help="score threshold 0..1")
    detect.add_argument("--out", type=Path, metavar="DIR", help="write annotated images here")
    detect.add_argument(
        "-j", "--concurrency", type=_positive_int, default=4, help="requests in flight"
    )
    detect.add_argument("-r", "--recursive", action="store_true", help="descend into folders")
    detect.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: only when stderr is a terminal)",
    )
    detect.add_argument("--no-summary", action="store_true", help="no summary table")
    detect.set_defaults(handler=cmd_detect)

    watch = commands.add_parser(
        "watch",
        parents=[common],
        help="send frames of a camera stream or video file, print detections as JSON lines",
        description="SOURCE: rtsp://..., http://... (MJPEG, HLS...), a video file, or a "
        "device number. Runs until the file ends, --max-frames, or Ctrl-C / SIGTERM.",
    )
    watch.add_argument("source", metavar="SOURCE")
    watch.add_argument("--service", default=DEFAULT_SERVICE, help="application type")
    watch.add_argument(
        "--fps", type=_positive_float, default=2.0, help="most frames sent per second"
    )
    watch.add_argument("--motion", action="store_true", help="send only frames with motion")
    watch.add_argument(
        "--motion-threshold",
        type=_confidence,
        default=0.01,
        help="fraction of pixels that must change (default 0.01)",
    )
    watch.add_argument("--min-confidence", type=_confidence, help="score threshold 0..1")
    watch.add_argument(
        "--camera", metavar="ID", help="send the frames as this camera (its zones and thresholds)"
    )
    watch.add_argument(
        "--output", type=Path, metavar="FILE", help="append JSON lines here instead of stdout"
    )
    watch.add_argument("--max-frames", type=_positive_int, help="stop after N answered frames")
    watch.add_argument("--loop", action="store_true", help="replay a video file forever")
    watch.add_argument(
        "--max-backoff",
        type=_positive_float,
        default=30.0,
        help="longest wait between reconnect attempts, seconds",
    )
    watch.set_defaults(handler=cmd_watch)

    cameras = commands.add_parser(
        "cameras",
        parents=[common],
        help="list, create, show, change or delete cameras (zones, thresholds, bound keys)",
        description="ipcai cameras [list] | create NAME [--service S] [--threshold dog=0.45] "
        "[--min-box-area F] [--zones FILE] | show ID | zones ID [--set FILE | --clear] | "
        "bind ID (--key KEY_ID | --new-key NAME) | unbind ID --key KEY_ID | delete ID",
    )
    cameras.add_argument(
        "action",
        nargs="?",
        choices=("list", "create", "show", "zones", "bind", "unbind", "delete"),
        default="list",
    )
    cameras.add_argument("target", nargs="?", metavar="NAME|ID", help="create: name; else: id")
    cameras.add_argument(
        "--service", action="append", help="create: a service of the camera (repeatable)"
    )
    cameras.add_argument(
        "--threshold",
        action="append",
        metavar="CLASS=SCORE",
        help="create: a class threshold, e.g. dog=0.45 (repeatable)",
    )
    cameras.add_argument("--min-box-area", type=_confidence, help="create: fraction of frame")
    cameras.add_argument("--min-box-pixels", type=int, help="create: box area in pixels")
    cameras.add_argument("--anchor", choices=("bottom_center", "center"), help="create")
    cameras.add_argument(
        "--zones", type=Path, metavar="FILE", help="create: zones as a JSON list, from a file"
    )
    cameras.add_argument(
        "--set", type=Path, metavar="FILE", help="zones: replace them with this JSON list"
    )
    cameras.add_argument("--clear", action="store_true", help="zones: remove every zone")
    cameras.add_argument("--key", metavar="KEY_ID", help="bind / unbind: an existing key")
    cameras.add_argument("--new-key", metavar="NAME", help="bind: issue a new bound key")
    cameras.add_argument("--json", action="store_true", help="JSON instead of text")
    cameras.set_defaults(handler=cmd_cameras)

    keys = commands.add_parser(
        "keys",
        parents=[common],
        help="list, create or revoke the tenant's API keys",
        description="ipcai keys [list] | ipcai keys create --name NAME [--scope detect ...] | "
        "ipcai keys revoke ID",
    )
    keys.add_argument("action", nargs="?", choices=("list", "create", "revoke"), default="list")
    keys.add_argument("key_id", nargs="?", metavar="KEY_ID", help="for revoke: id or prefix")
    keys.add_argument("--name", default="", help="for create: what the key is for")
    keys.add_argument(
        "--expires-in-days", type=_positive_int, help="for create: key stops working after N days"
    )
    keys.add_argument(
        "--scope",
        action="append",
        dest="scopes",
        choices=("detect", "events:read", "manage"),
        help="for create, repeatable: what the key may do (default: detect only; never more "
        "than the key making the call)",
    )
    keys.add_argument("--json", action="store_true", help="JSON instead of a table")
    keys.set_defaults(handler=cmd_keys)

    usage = commands.add_parser("usage", parents=[common], help="requests per day and service")
    usage.add_argument("--days", type=_positive_int, default=30, help="last N days (default 30)")
    usage.add_argument("--service", help="only this application type")
    usage.add_argument("--json", action="store_true", help="JSON instead of a table")
    usage.set_defaults(handler=cmd_usage)

    events = commands.add_parser(
        "events",
        parents=[common],
        help="camera events (alerts): list them, or --follow them as they start and end",
        description="ipcai events [--camera ID] [--label person] [--zone NAME] [--since TIME] "
        "[--follow]",
    )
    events.add_argument("--camera", help="only this camera (its id, cam_...)")
    events.add_argument("--label", help="only this class, e.g. person")
    events.add_argument("--zone", help="only events that entered this zone")
    events.add_argument("--since", help="only events started at or after this ISO 8601 time")
    events.add_argument("--limit", type=_positive_int, default=50, help="how many (default 50)")
    events.add_argument(
        "--follow",
        action="store_true",
        help="keep polling; print one JSON line per event start and end (Ctrl-C stops)",
    )
    events.add_argument(
        "--interval", type=_positive_float, default=2.0, help="seconds between polls (follow)"
    )
    events.add_argument("--json", action="store_true", help="JSON instead of a table")
    events.set_defaults(handler=cmd_events)

    export = commands.add_parser(
        "export",
        parents=[common],
        help="export archived frames as a COCO, YOLO or Label Studio dataset zip",
        description="Builds the export on the service (the key needs events:read), shows its "
        "progress, then downloads the zip. The model's boxes come as pre-labels.",
    )
    export.add_argument("--format", choices=("coco", "yolo", "labelstudio"), default="coco")
    export.add_argument("--service", help="only this application type")
    export.add_argument("--since", help="frames received at or after (ISO 8601)")
    export.add_argument("--until", help="frames received before (ISO 8601)")
    export.add_argument("--classes", help="comma-separated: frames with these classes only")
    export.add_argument("--score-min", type=_confidence, help="frames with a detection scored ≥")
    export.add_argument("--score-max", type=_confidence, help="... and ≤ this")
    export.add_argument("--sample-size", type=_positive_int, help="at most N frames, at random")
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
    export.set_defaults(handler=cmd_export)

    relay = commands.add_parser(
        "relay",
        help="a local DeepStack / CodeProject.AI server for Blue Iris, Agent DVR and others",
        description="Listens on the LAN like a local AI server and forwards every vision call "
        f"to the service with the key from ${ENV_API_KEY} or the config file "
        "(never the command line). Point the camera software at this host and port.",
    )
    relay.add_argument(
        "--listen", default="127.0.0.1:5000", metavar="HOST:PORT", help="default 127.0.0.1:5000"
    )
    relay.add_argument("--camera", metavar="ID", help="send every call as this camera")
    relay.add_argument("--url", help=f"service base URL (default: ${ENV_URL} or the config file)")
    relay.add_argument("--config", type=Path, metavar="FILE", help="TOML file with api_key, url")
    relay.add_argument("--timeout", type=_positive_float, default=30.0, help="seconds per call")
    relay.add_argument(
        "--concurrency", type=_positive_int, default=4, help="calls forwarded at once"
    )
    relay.add_argument(
        "--max-waiting",
        type=int,
        default=32,
        metavar="N",
        help="calls that may wait for a free slot; beyond that the relay answers 503 at once",
    )
    relay.add_argument("--api-key", help=argparse.SUPPRESS)  # refused with a reason, below
    relay.set_defaults(handler=cmd_relay)
    return parser


def _retry_policy(args: argparse.Namespace) -> RetryPolicy:
    return RetryPolicy(max_retries=max(0, args.retries))


def _write_line(stream: IO[str], record: dict[str, Any]) -> None:
    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    stream.flush()  # a reader (jq, a log shipper, a test) sees each result as it happens


def cmd_detect(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    paths = expand_inputs(args.images, recursive=args.recursive)
    if not paths:
        raise InputError("no images found")
    show_progress = stderr.isatty() if args.progress is None else args.progress
    progress = tqdm(total=len(paths), unit="img", file=stderr, disable=not show_progress)

    def done(outcome: ImageOutcome) -> None:
        _write_line(stdout, outcome.to_json())
        progress.update(1)

    async def run() -> list[ImageOutcome]:
        async with AsyncClient(
            args.api_key,
            args.url,
            timeout=args.timeout,
            retry=_retry_policy(args),
            max_connections=args.concurrency,
        ) as client:
            return await detect_many(
                client,
                paths,
                args.service,
                min_confidence=args.min_confidence,
                concurrency=args.concurrency,
                out_dir=args.out,
                on_done=done,
            )

    try:
        outcomes = asyncio.run(run())
    finally:
        progress.close()
    if not args.no_summary:
        print(summary_table(outcomes), file=stderr)
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED


def cmd_watch(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
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
    _stop_on_signals(stop)
    # The watch loop does its own waiting between failures; one quick retry covers a stale
    # keep-alive connection.
    retry = RetryPolicy(max_retries=min(1, max(0, args.retries)), max_retry_after=0)
    with Client(args.api_key, args.url, timeout=args.timeout, retry=retry) as client:
        if args.output:
            with args.output.open("a", encoding="utf-8") as output:
                stats = run_watch(
                    client, args.source, options, lambda r: _write_line(output, r), stop
                )
        else:
            stats = run_watch(client, args.source, options, lambda r: _write_line(stdout, r), stop)
    print(
        f"{plural(stats.frames_read, 'frame')} read, {stats.frames_sent} answered, "
        f"{stats.frames_without_motion} without motion, "
        f"{plural(stats.failures, 'failed attempt')}",
        file=stderr,
    )
    return EXIT_OK


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM (systemd, docker stop) and SIGINT end the watch after the current frame."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())


def _camera_settings(args: argparse.Namespace) -> dict[str, Any]:
    """`ipcai cameras create`'s options as the API's body."""
    settings: dict[str, Any] = {"name": args.target}
    if args.service:
        settings["services"] = args.service
    if args.threshold:
        thresholds = {}
        for item in args.threshold:
            label, sep, score = item.partition("=")
            try:
                thresholds[label.strip()] = float(score)
            except ValueError:
                sep = ""
            if not sep:
                raise ConfigurationError(f"--threshold takes CLASS=SCORE, got {item!r}")
        settings["class_thresholds"] = thresholds
    for option in ("min_box_area", "min_box_pixels", "anchor"):
        if getattr(args, option) is not None:
            settings[option] = getattr(args, option)
    if args.zones:
        settings["zones"] = _json_file(args.zones)
    return settings


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read JSON from {path}: {exc}") from None


def cmd_cameras(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from ipcai import cameras as api

    if args.action != "list" and not args.target:
        what = "NAME" if args.action == "create" else "ID (from `ipcai cameras`)"
        raise ConfigurationError(f"cameras {args.action} needs the camera's {what}")
    with Client(args.api_key, args.url, timeout=args.timeout, retry=_retry_policy(args)) as client:
        if args.action == "list":
            cameras = api.list_cameras(client)
            if args.json:
                _write_line(stdout, {"cameras": cameras})
            else:
                print(api.format_cameras(cameras), file=stdout)
            return EXIT_OK
        if args.action == "delete":
            api.delete_camera(client, args.target)
            print(f"deleted camera {args.target}; its keys still work, unbound", file=stderr)
            return EXIT_OK
        if args.action == "bind" and args.new_key is not None:
            camera, secret = api.issue_bound_key(client, args.target, args.new_key)
            print(
                f"A new key bound to {camera['name']}, shown only this once; store it now:",
                file=stderr,
            )
            print(secret, file=stdout)
            return EXIT_OK
        if args.action in ("bind", "unbind"):
            if not args.key:
                raise ConfigurationError(f"cameras {args.action} needs --key KEY_ID")
            camera = (api.bind_key if args.action == "bind" else api.unbind_key)(
                client, args.target, args.key
            )
            camera = camera.get("camera", camera)
        elif args.action == "create":
            camera = api.create_camera(client, _camera_settings(args))
        elif args.action == "zones" and (args.set or args.clear):
            zones = [] if args.clear else _json_file(args.set)
            camera = api.update_camera(client, args.target, {"zones": zones})
        else:
            camera = api.get_camera(client, args.target)
    if args.action == "zones":
        if args.json:
            _write_line(stdout, {"zones": camera["zones"]})
        else:
            print(api.format_zones(camera["zones"]), file=stdout)
    elif args.json:
        _write_line(stdout, camera)
    else:
        print(api.format_camera(camera), file=stdout)
    return EXIT_OK


def cmd_keys(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from ipcai.account import create_key, list_keys, revoke_key

    with Client(args.api_key, args.url, timeout=args.timeout, retry=_retry_policy(args)) as client:
        if args.action == "create":
            key, secret = create_key(
                client, name=args.name, expires_in_days=args.expires_in_days, scopes=args.scopes
            )
            print(
                "The new key is shown only this once; store it now (e.g. in IPCAI_API_KEY):",
                file=stderr,
            )
            print(secret, file=stdout)
            return EXIT_OK
        if args.action == "revoke":
            if not args.key_id:
                raise ConfigurationError("keys revoke needs the KEY_ID shown by `ipcai keys`")
            key = revoke_key(client, args.key_id)
            print(f"revoked {key.prefix} ({key.name or 'unnamed'})", file=stderr)
            return EXIT_OK
        keys = list_keys(client)
    if args.json:
        _write_line(stdout, {"keys": [k.raw for k in keys]})
    else:
        print(format_keys(keys), file=stdout)
    return EXIT_OK


def cmd_events(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from datetime import UTC, datetime

    from ipcai.camera_events import follow, format_events, list_events

    filters = {"camera": args.camera, "label": args.label, "zone": args.zone}
    with Client(args.api_key, args.url, timeout=args.timeout, retry=_retry_policy(args)) as client:
        if not args.follow:
            events = list_events(client, since=args.since, limit=args.limit, **filters)
            if args.json:
                _write_line(stdout, {"results": [e.raw for e in events]})
            else:
                print(format_events(events), file=stdout)
            return EXIT_OK
        stop = threading.Event()
        _stop_on_signals(stop)
        since = args.since or datetime.now(UTC).isoformat()
        print("following camera events (Ctrl-C stops)...", file=stderr)

        def changed(kind: str, event) -> None:
            _write_line(stdout, {"change": kind, **event.raw})
            stdout.flush()

        follow(client, changed, stop, since=since, interval_s=args.interval, **filters)
    return EXIT_OK


def cmd_usage(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from ipcai.account import get_usage

    with Client(args.api_key, args.url, timeout=args.timeout, retry=_retry_policy(args)) as client:
        usage = get_usage(client, days=args.days, service=args.service)
    if args.json:
        _write_line(stdout, usage.raw)
    else:
        print(format_usage(usage), file=stdout)
    return EXIT_OK


def cmd_export(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from ipcai.export import download_export, start_export, wait_for_export

    show_progress = stderr.isatty() if args.progress is None else args.progress
    classes = [c.strip() for c in (args.classes or "").split(",") if c.strip()]
    with Client(args.api_key, args.url, timeout=args.timeout, retry=_retry_policy(args)) as client:
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

            def building(current: dict) -> None:
                bar.update(round(current["progress"] * 100) - bar.n)
                bar.set_postfix(frames=current["images"])

            job = wait_for_export(client, job["id"], building)
        output = args.output or Path(f"{args.format}-{job['id']}.zip")
        with tqdm(
            total=job["size_bytes"],
            unit="B",
            unit_scale=True,
            desc="downloading",
            file=stderr,
            disable=not show_progress,
        ) as bar:
            download_export(client, job, output, bar.update)
    print(
        f"{plural(job['images'], 'frame')}, {plural(job['annotations'], 'pre-label')} "
        f"written to {output}",
        file=stderr,
    )
    _write_line(stdout, {"export": job["id"], "path": str(output), "images": job["images"]})
    return EXIT_OK


def cmd_relay(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    try:
        from ipcai.relay import load_settings, parse_listen, run_relay
    except ImportError as exc:  # starlette / uvicorn come with the `relay` extra
        raise ConfigurationError(
            f"ipcai relay needs the relay extra: pip install 'ipcai[relay]' ({exc.name} missing)"
        ) from None

    if args.api_key:
        raise ConfigurationError(
            f"the relay reads its key from ${ENV_API_KEY} or the config file: arguments are "
            "visible to every user of the machine"
        )
    parse_listen(args.listen)  # a bad --listen fails before anything starts
    settings = load_settings(
        url=args.url,
        camera=args.camera,
        config_path=args.config,
        timeout=args.timeout,
        concurrency=args.concurrency,
        max_waiting=max(0, args.max_waiting),
    )
    logger.setLevel(logging.INFO)  # one line per call is the relay's whole output
    for handler in logger.handlers:  # a long-running service: each line needs its time
        handler.setFormatter(logging.Formatter("%(asctime)s ipcai relay: %(message)s"))
    run_relay(settings, args.listen)
    return EXIT_OK


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
    command: Callable[[argparse.Namespace, IO[str], IO[str]], int] = args.handler
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


if __name__ == "__main__":
    sys.exit(main())
