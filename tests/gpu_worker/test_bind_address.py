"""The worker's /invocations has no authentication, so it listens on loopback unless the
container's `serve` (SageMaker's entry point, reached from outside the container) says
otherwise."""

from __future__ import annotations

import subprocess

from gpu_worker.config import WorkerSettings
from harness.processes import REPO_ROOT


def test_a_worker_started_by_hand_listens_on_loopback_only():
    assert WorkerSettings.from_env({}).host == "127.0.0.1"
    assert WorkerSettings.from_env({"HOST": "0.0.0.0"}).host == "0.0.0.0"


def _host_serve_would_use(env: dict[str, str]) -> str:
    """Run docker/serve with `python` replaced by a stub that prints HOST."""
    script = (REPO_ROOT / "docker" / "serve").read_text()
    stubbed = script.replace("exec python -m gpu_worker serve", 'echo "$HOST" #')
    result = subprocess.run(
        ["sh", "-c", stubbed], env=env, capture_output=True, text=True, check=True, timeout=10
    )
    return result.stdout.strip()


def test_the_container_entry_point_listens_on_every_interface_for_sagemaker():
    assert _host_serve_would_use({"PATH": "/usr/bin:/bin"}) == "0.0.0.0"
    assert _host_serve_would_use({"PATH": "/usr/bin:/bin", "HOST": "127.0.0.1"}) == "127.0.0.1"
