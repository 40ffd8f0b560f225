"""Fixtures of the client tests: the shared images, a scripted HTTP server for the retry
tests, and a real portal (gunicorn) in front of a real worker (yolox_nano) for the command
line, which runs as a separate process exactly as a user starts it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.portal import Portal, running_portal
from harness.processes import shared_dir
from harness.scripted_http import ScriptedServer, scripted_server
from harness.worker import running_worker
from tests.client.running_cli import CliRun, run_cli

ALL_SERVICES = ("persons-detection", "pets-detection", "vehicles-detection")


@pytest.fixture(scope="session")
def images_dir() -> Path:
    return shared_dir() / "images"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running


@pytest.fixture(scope="session")
def live_worker_url(tmp_path_factory) -> Iterator[str]:
    with running_worker(tmp_path_factory.mktemp("client-worker")) as (_, base_url):
        yield base_url


@pytest.fixture(scope="session")
def live_portal(tmp_path_factory, live_worker_url) -> Iterator[Portal]:
    with running_portal(tmp_path_factory.mktemp("client-portal"), live_worker_url) as portal:
        yield portal


@pytest.fixture(scope="session")
def api_key(live_portal) -> str:
    """A key of a tenant with all three services enabled."""
    return live_portal.create_tenant("client-tests", services=ALL_SERVICES)


@pytest.fixture
def ipcai(live_portal, api_key) -> Callable[..., CliRun]:
    """Run `ipcai ARGS` as its own process with output to pipes (not a terminal)."""

    def run(*args: str, key: str | None = None, timeout: float = 120) -> CliRun:
        return run_cli(args, live_portal.base_url, key or api_key, timeout=timeout)

    return run
