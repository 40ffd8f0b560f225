"""`ipcai relay`: a local DeepStack / CodeProject.AI server for Blue Iris, Agent DVR and others,
forwarding every vision call to the service. It reads its key from $IPCAI_API_KEY or its config
file, never from the command line, so it takes no connection options but --url and --timeout."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import IO

from ipcai.cli.arguments import positive_float, positive_int
from ipcai.cli.command import EXIT_OK, Commands
from ipcai.client import ENV_API_KEY, ENV_URL
from ipcai.errors import ConfigurationError

logger = logging.getLogger("ipcai")
# A call every key that may use the relay can make, without inference or metering.
MODEL_LIST_PATH = "/v1/vision/custom/list"


class KeyRefused(ConfigurationError):
    """The service refuses the relay's key: exit 2, before listening."""


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
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
    relay.add_argument("--timeout", type=positive_float, default=30.0, help="seconds per call")
    relay.add_argument(
        "--concurrency", type=positive_int, default=4, help="calls forwarded at once"
    )
    relay.add_argument(
        "--max-waiting",
        type=int,
        default=32,
        metavar="N",
        help="calls that may wait for a free slot; beyond that the relay answers 503 at once",
    )
    relay.add_argument("--api-key", help=argparse.SUPPRESS)  # refused with a reason, in run
    relay.set_defaults(handler=run)


def check_key(base_url: str, api_key: str, stderr: IO[str]) -> None:
    """Refuse to start with a key the service refuses (every call would fail with "Incorrect
    api key"); start anyway, with a warning, when the service cannot be asked now."""
    import httpx

    try:
        answer = httpx.post(
            f"{base_url}{MODEL_LIST_PATH}", headers={"x-api-key": api_key}, timeout=10.0
        )
    except httpx.HTTPError as exc:
        print(
            f"ipcai: could not check the API key at {base_url} ({exc}); starting anyway",
            file=stderr,
        )
        return
    if answer.status_code in (401, 403):
        raise KeyRefused(
            f"the service at {base_url} refuses the relay's API key (HTTP {answer.status_code}): "
            f"check ${ENV_API_KEY} or api_key in the config file; the relay did not start"
        )


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
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
    check_key(settings.base_url, settings.api_key, stderr)
    logger.setLevel(logging.INFO)  # one line per call is the relay's whole output
    for handler in logger.handlers:  # a long-running service: each line needs its time
        handler.setFormatter(logging.Formatter("%(asctime)s ipcai relay: %(message)s"))
    run_relay(settings, args.listen)
    return EXIT_OK
