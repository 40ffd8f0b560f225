"""`ipcai cameras [ACTION]`: list, create, show, change the zones of, bind keys to and delete the
tenant's cameras. Each action is its own subparser, so `ipcai cameras create --help` shows the
options of create; the connection options and --json count before or after the action."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from ipcai import cameras as api
from ipcai.cli.arguments import confidence
from ipcai.cli.command import EXIT_OK, Commands, json_option, write_result
from ipcai.cli.connection import client_from, connection_options
from ipcai.errors import ConfigurationError

JSON_HELP = "JSON instead of text"
CAMERA_ID_HELP = "the camera's id (cam_..., from `ipcai cameras`)"


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    cameras = commands.add_parser(
        "cameras",
        parents=[connection, json_option(JSON_HELP)],
        help="list, create, show, change or delete cameras (zones, thresholds, bound keys)",
        description="ipcai cameras [list] | create NAME [--service S] [--threshold dog=0.45] "
        "[--min-box-area F] [--zones FILE] | show ID | zones ID [--set FILE | --clear] | "
        "bind ID (--key KEY_ID | --new-key NAME) | unbind ID --key KEY_ID | delete ID",
    )
    cameras.set_defaults(handler=run_list)  # `ipcai cameras` alone lists them
    actions = cameras.add_subparsers(dest="action", help="default: list")
    shared = [connection_options(inherited=True), json_option(JSON_HELP, inherited=True)]

    def action(
        name: str, help: str, target: str | None = CAMERA_ID_HELP
    ) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, parents=shared, help=help, description=help)
        if target is not None:  # optional to argparse: the handler says what is missing
            metavar = "NAME" if name == "create" else "ID"
            parser.add_argument("target", nargs="?", metavar=metavar, help=target)
        return parser

    action("list", "list the cameras", target=None).set_defaults(handler=run_list)

    create = action("create", "create a camera", target="the camera's name")
    create.add_argument("--service", action="append", help="a service of the camera (repeatable)")
    create.add_argument(
        "--threshold",
        action="append",
        metavar="CLASS=SCORE",
        help="a class threshold, e.g. dog=0.45 (repeatable)",
    )
    create.add_argument(
        "--min-box-area", type=confidence, help="smallest box kept, as a fraction of the frame"
    )
    create.add_argument("--min-box-pixels", type=int, help="smallest box kept, in pixels")
    create.add_argument(
        "--anchor",
        choices=("bottom_center", "center"),
        help="the point of a box that must lie in a zone",
    )
    create.add_argument(
        "--zones", type=Path, metavar="FILE", help="zones as a JSON list, from a file"
    )
    create.set_defaults(handler=run_create)

    action("show", "show a camera's settings").set_defaults(handler=run_show)

    zones = action("zones", "show a camera's zones, or replace or remove them")
    zones.add_argument("--set", type=Path, metavar="FILE", help="replace them with this JSON list")
    zones.add_argument("--clear", action="store_true", help="remove every zone")
    zones.set_defaults(handler=run_zones)

    bind = action("bind", "bind an existing key, or a new one, to a camera")
    bind.add_argument("--key", metavar="KEY_ID", help="an existing key")
    bind.add_argument("--new-key", metavar="NAME", help="issue a new bound key")
    bind.set_defaults(handler=run_bind)

    unbind = action("unbind", "unbind a key from a camera (the key still works)")
    unbind.add_argument("--key", metavar="KEY_ID", help="the bound key")
    unbind.set_defaults(handler=run_unbind)

    action("delete", "delete a camera (its keys still work, unbound)").set_defaults(
        handler=run_delete
    )


def run_list(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    with client_from(args) as client:
        cameras = api.list_cameras(client)
    write_result(stdout, args.json, {"cameras": cameras}, lambda: api.format_cameras(cameras))
    return EXIT_OK


def run_create(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    _target(args, "create")
    with client_from(args) as client:
        camera = api.create_camera(client, _camera_settings(args))
    _print_camera(args, camera, stdout)
    return EXIT_OK


def run_show(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    camera_id = _target(args, "show")
    with client_from(args) as client:
        camera = api.get_camera(client, camera_id)
    _print_camera(args, camera, stdout)
    return EXIT_OK


def run_zones(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    camera_id = _target(args, "zones")
    with client_from(args) as client:
        if args.set or args.clear:
            zones = [] if args.clear else _json_file(args.set)
            camera = api.update_camera(client, camera_id, {"zones": zones})
        else:
            camera = api.get_camera(client, camera_id)
    zones = camera["zones"]
    write_result(stdout, args.json, {"zones": zones}, lambda: api.format_zones(zones))
    return EXIT_OK


def run_bind(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    camera_id = _target(args, "bind")
    with client_from(args) as client:
        if args.new_key is not None:
            camera, secret = api.issue_bound_key(client, camera_id, args.new_key)
            print(
                f"A new key bound to {camera['name']}, shown only this once; store it now:",
                file=stderr,
            )
            print(secret, file=stdout)
            return EXIT_OK
        if not args.key:
            raise ConfigurationError("cameras bind needs --key KEY_ID")
        answer = api.bind_key(client, camera_id, args.key)
    _print_camera(args, answer.get("camera", answer), stdout)
    return EXIT_OK


def run_unbind(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    camera_id = _target(args, "unbind")
    with client_from(args) as client:
        if not args.key:
            raise ConfigurationError("cameras unbind needs --key KEY_ID")
        answer = api.unbind_key(client, camera_id, args.key)
    _print_camera(args, answer.get("camera", answer), stdout)
    return EXIT_OK


def run_delete(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    camera_id = _target(args, "delete")
    with client_from(args) as client:
        api.delete_camera(client, camera_id)
    print(f"deleted camera {camera_id}; its keys still work, unbound", file=stderr)
    return EXIT_OK


def _target(args: argparse.Namespace, action: str) -> str:
    """The NAME (create) or ID the action needs, or a usage error that says which."""
    if not args.target:
        what = "NAME" if action == "create" else "ID (from `ipcai cameras`)"
        raise ConfigurationError(f"cameras {action} needs the camera's {what}")
    return str(args.target)


def _print_camera(args: argparse.Namespace, camera: Mapping[str, Any], stdout: IO[str]) -> None:
    write_result(stdout, args.json, camera, lambda: api.format_camera(camera))


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
