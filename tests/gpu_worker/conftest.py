"""Real worker processes for the worker's tests: one per model for the whole session."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness.images import huge_png
from harness.worker import running_worker

MODELS = ("yolox_nano", "picodet_s_416", "deimv2_femto")


class WorkerClient:
    """A requests session bound to one worker's base URL."""

    def __init__(self, base_url: str, log_path: Path) -> None:
        self.base_url = base_url
        self.log_path = log_path
        self.http = requests.Session()

    def invoke_raw(self, body: bytes, content_type="image/jpeg", attributes: str | None = None):
        headers = {"Content-Type": content_type}
        if attributes:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = attributes
        return self.http.post(
            f"{self.base_url}/invocations", data=body, headers=headers, timeout=60
        )

    def invoke_json(self, image: bytes, **options):
        document = {"image_bytes": base64.b64encode(image).decode(), **options}
        return self.http.post(f"{self.base_url}/invocations", json=document, timeout=60)

    def get(self, path: str):
        return self.http.get(f"{self.base_url}{path}", timeout=30)


@pytest.fixture(scope="session")
def worker_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("worker-logs")


@pytest.fixture(scope="session", params=MODELS)
def any_model_worker(request, worker_logs) -> Iterator[WorkerClient]:
    """The worker serving each real model in turn."""
    with running_worker(worker_logs, model=request.param) as (server, url):
        yield WorkerClient(url, server.log_path)


@pytest.fixture(scope="session")
def worker(worker_logs) -> Iterator[WorkerClient]:
    """The default model's worker, for contract and error tests."""
    with running_worker(worker_logs, model="yolox_nano") as (server, url):
        yield WorkerClient(url, server.log_path)


@pytest.fixture(scope="session")
def huge_png_bytes(tmp_path_factory) -> bytes:
    return huge_png(tmp_path_factory.mktemp("png") / "20000x20000.png").read_bytes()
