"""docker/serve, the command SageMaker runs in the worker images, starts a real worker that
answers SageMaker's /ping and /invocations, and hands SIGTERM straight to it (exec)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import requests

from harness.images import seed_image
from harness.processes import ServerProcess, free_port, http_ok, model_dir
from tests.docker.dockerfiles import DOCKER_DIR


def test_serve_starts_a_worker_that_answers_the_sagemaker_contract(tmp_path: Path):
    port = free_port()
    venv_bin = str(Path(sys.executable).parent)  # `python` in the image is the image's venv
    server = ServerProcess(
        argv=[str(DOCKER_DIR / "serve")],
        env={
            "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "IPCAI_MODEL_DIR": str(model_dir()),
            "IPCAI_MODEL": "yolox_nano",
            "IPCAI_BACKEND": "onnxruntime",
            "IPCAI_LANES": "1",
        },
        log_path=tmp_path / "serve.log",
    ).start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        server.wait_until(lambda: http_ok(f"{base_url}/ping"), timeout=120)
        # exec: the process SageMaker started is the worker itself, not a shell around it, so
        # its SIGTERM reaches the server.
        command_line = Path(f"/proc/{server.process.pid}/cmdline").read_bytes().split(b"\0")
        assert command_line[1:4] == [b"-m", b"gpu_worker", b"serve"], command_line

        response = requests.post(
            f"{base_url}/invocations",
            data=seed_image("persons"),
            headers={
                "Content-Type": "application/x-image",
                "X-Amzn-SageMaker-Custom-Attributes": "application_type=persons-detection",
            },
            timeout=60,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["width"], body["height"]) == (819, 546)
        assert body["class_names"] and {name for (name,) in body["class_names"]} == {"person"}
    finally:
        exit_code = server.stop()

    # uvicorn finishes its graceful shutdown, then re-raises SIGTERM (exit status -15).
    assert exit_code in (0, -signal.SIGTERM), server.log()
    assert "Application shutdown complete" in server.log()
    assert not http_ok(f"{base_url}/ping", timeout=0.5)
