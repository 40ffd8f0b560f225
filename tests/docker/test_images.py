"""The container images, checked without a Docker engine: the SageMaker layout of the worker
images, the GPU image's ONNX Runtime swap, the portal image's command, and a build context that
holds every file the images copy."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

from harness.processes import REPO_ROOT
from tests.docker.dockerfiles import (
    DOCKER_DIR,
    copy_sources,
    dockerignore_patterns,
    environment,
    final_stage,
    ignored_by_dockerignore,
    instructions,
    of_kind,
)
from tests.support.cloudformation import TEMPLATE_DIR, load_template

WORKER_IMAGES = [DOCKER_DIR / "worker-cpu.Dockerfile", DOCKER_DIR / "worker-gpu.Dockerfile"]
ALL_IMAGES = [*WORKER_IMAGES, DOCKER_DIR / "portal.Dockerfile"]


def _pyproject_pin(extra: str, package: str) -> str:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    for requirement in pyproject["project"]["optional-dependencies"][extra]:
        name, _, version = requirement.partition("==")
        if name.lower() == package:
            return version
    raise AssertionError(f"{package} is not pinned in the {extra!r} extra")


def _last(dockerfile: Path, keyword: str) -> str:
    found = [i.arguments for i in final_stage(dockerfile) if i.keyword == keyword]
    assert found, f"{dockerfile.name} has no {keyword}"
    return found[-1]


@pytest.mark.parametrize("dockerfile", WORKER_IMAGES, ids=lambda p: p.name)
def test_worker_image_follows_sagemakers_container_layout(dockerfile: Path):
    # SageMaker runs `docker run IMAGE serve`: no ENTRYPOINT may swallow that argument.
    assert of_kind(dockerfile, "ENTRYPOINT") == []
    assert json.loads(_last(dockerfile, "CMD")) == ["serve"]
    assert "COPY --chmod=0755 docker/serve /usr/local/bin/serve" in [
        f"COPY {arguments}" for arguments in of_kind(dockerfile, "COPY")
    ]
    assert "8080" in _last(dockerfile, "EXPOSE").split()
    env = environment(dockerfile)
    assert env["IPCAI_MODEL_DIR"] == "/opt/ml/model"
    assert env["PORT"] == "8080"
    assert env["IPCAI_MODEL"] == "deimv2_femto"  # the measured default (BENCHMARKS.md)


def test_serve_script_is_executable_and_execs_the_worker():
    serve = DOCKER_DIR / "serve"
    assert os.access(serve, os.X_OK)
    staged = subprocess.run(
        ["git", "ls-files", "--stage", "docker/serve"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert staged.startswith("100755"), f"docker/serve must be committed executable: {staged!r}"
    assert "exec python -m gpu_worker serve" in serve.read_text()


def test_cpu_image_runs_onnxruntime_from_the_pinned_worker_extra():
    dockerfile = DOCKER_DIR / "worker-cpu.Dockerfile"
    assert _last(dockerfile, "FROM").startswith("python:3.11-slim")
    assert environment(dockerfile)["IPCAI_BACKEND"] == "onnxruntime"
    (install,) = [r for r in of_kind(dockerfile, "RUN") if "pip install" in r]
    assert "-c /tmp/src/constraints.txt" in install
    assert "'/tmp/src[worker]'" in install


def test_gpu_image_replaces_cpu_onnxruntime_with_the_pinned_gpu_build():
    dockerfile = DOCKER_DIR / "worker-gpu.Dockerfile"
    assert _last(dockerfile, "FROM").startswith("nvidia/cuda:12.")
    assert "cudnn-runtime" in _last(dockerfile, "FROM")
    assert environment(dockerfile)["IPCAI_BACKEND"] == "auto"
    (install,) = [r for r in of_kind(dockerfile, "RUN") if "pip install" in r]
    steps = [step.strip() for step in install.split("&&")]
    assert "'/tmp/src[worker,gpu]'" in steps[0]
    assert steps[1] == "pip uninstall -y onnxruntime onnxruntime-gpu"
    assert steps[2] == 'pip install --no-deps "onnxruntime-gpu==${ONNXRUNTIME_GPU_VERSION}"'
    (arg,) = [a for a in of_kind(dockerfile, "ARG") if a.startswith("ONNXRUNTIME_GPU_VERSION=")]
    assert arg.partition("=")[2] == _pyproject_pin("gpu", "onnxruntime-gpu")


def test_portal_image_serves_gunicorn_on_the_port_the_stack_routes_to():
    dockerfile = DOCKER_DIR / "portal.Dockerfile"
    command = json.loads(_last(dockerfile, "CMD"))
    assert command[0] == "gunicorn"
    config = command[command.index("--config") + 1]
    assert (REPO_ROOT / config).is_file()
    module = command[-1]
    assert (REPO_ROOT / (module.replace(".", "/") + ".py")).is_file()
    port = environment(dockerfile)["PORT"]
    assert port in _last(dockerfile, "EXPOSE").split()
    portal = load_template(TEMPLATE_DIR / "portal.yaml")
    web = next(
        c
        for c in portal["Resources"]["PortalTaskDefinition"]["Properties"]["ContainerDefinitions"]
        if c["Name"] == "web"
    )
    assert [m["ContainerPort"] for m in web["PortMappings"]] == [int(port)]
    assert any("manage.py collectstatic --noinput" in r for r in of_kind(dockerfile, "RUN"))
    assert any("-e '.[portal]'" in r for r in of_kind(dockerfile, "RUN"))


UNPRIVILEGED_IMAGES = [DOCKER_DIR / "worker-cpu.Dockerfile", DOCKER_DIR / "portal.Dockerfile"]


@pytest.mark.parametrize("dockerfile", UNPRIVILEGED_IMAGES, ids=lambda p: p.name)
def test_image_runs_as_an_unprivileged_user(dockerfile: Path):
    user = _last(dockerfile, "USER")
    assert user not in {"root", "0"}
    assert any(re.search(rf"useradd .*\b{user}\b", r) for r in of_kind(dockerfile, "RUN"))


def test_sagemaker_gpu_image_runs_as_root_with_its_engine_cache_outside_any_home():
    """SageMaker expects inference containers to run as root (its BYOC contract); the GPU
    image is the SageMaker one, so it sets no other user and caches engines under /opt."""
    dockerfile = DOCKER_DIR / "worker-gpu.Dockerfile"
    assert of_kind(dockerfile, "USER") == []
    assert environment(dockerfile)["IPCAI_ENGINE_CACHE_DIR"].startswith("/opt/")


@pytest.mark.parametrize("dockerfile", ALL_IMAGES, ids=lambda p: p.name)
def test_every_copied_file_is_in_the_build_context(dockerfile: Path):
    patterns = dockerignore_patterns()
    for source in copy_sources(dockerfile):
        assert (REPO_ROOT / source).exists(), f"{dockerfile.name} copies missing {source}"
        assert not ignored_by_dockerignore(source, patterns), (
            f"{dockerfile.name} copies {source}, which .dockerignore excludes"
        )


def test_build_context_leaves_out_environments_history_and_weights():
    patterns = dockerignore_patterns()
    for path in [".venv", ".git", "var", "models/yolox_nano.onnx", "apps/__pycache__"]:
        assert ignored_by_dockerignore(path, patterns), path
    for path in ["gpu_worker/server.py", "docker/serve", "constraints.txt"]:
        assert not ignored_by_dockerignore(path, patterns), path


def test_dockerignore_reader_honours_negation():
    assert ignored_by_dockerignore("docs/a.md", ["docs"])
    assert not ignored_by_dockerignore("docs/a.md", ["docs", "!docs/a.md"])


def test_instruction_reader_joins_continued_lines(tmp_path: Path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM a\n# note\nENV A=1 \\\n    B='two words'\nRUN x \\\n && y\n")
    assert [i.keyword for i in instructions(dockerfile)] == ["FROM", "ENV", "RUN"]
    assert environment(dockerfile) == {"A": "1", "B": "two words"}
    assert shlex.split(of_kind(dockerfile, "RUN")[0]) == ["x", "&&", "y"]
