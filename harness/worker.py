"""Start a real gpu_worker process (`python -m gpu_worker`) on a free port for a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.processes import ServerProcess, free_port, http_ok, model_dir, python_module


@contextmanager
def running_worker(
    log_dir: Path, model: str = "yolox_nano", **env: str
) -> Iterator[tuple[ServerProcess, str]]:
    """Yield (process, base_url) of a worker serving `model` once its /ping answers 200."""
    port = free_port()
    server = ServerProcess(
        argv=python_module("gpu_worker"),
        env={
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "IPCAI_MODEL_DIR": str(model_dir()),
            "IPCAI_MODEL": model,
            "IPCAI_BACKEND": "onnxruntime",
            **env,
        },
        log_path=log_dir / f"worker-{model}-{port}.log",
    ).start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        server.wait_until(lambda: http_ok(f"{base_url}/ping"), timeout=120)
        yield server, base_url
    finally:
        server.stop()
