"""Fixtures shared by the client tests: the shared test images and a scripted HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import shared_dir
from tests.support.scripted_http import ScriptedServer, scripted_server


@pytest.fixture(scope="session")
def images_dir() -> Path:
    return shared_dir() / "images"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running
