"""The client installs and imports on its own: no Django, no worker, OpenCV only for `watch`,
and its pins agree with the versions the service is tested with."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from harness.processes import REPO_ROOT

FOREIGN = ("django", "rest_framework", "gpu_worker", "apps", "portal", "onnxruntime", "cv2")


def test_the_library_and_command_line_import_without_server_or_video_dependencies():
    probe = (
        "import sys, ipcai, ipcai.cli, ipcai.batch, ipcai.account, ipcai.drawing;"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FOREIGN!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd="/", capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_dependencies_are_pinned_to_the_projects_constraints():
    project = tomllib.loads((REPO_ROOT / "client" / "pyproject.toml").read_text())["project"]
    constraints = dict(
        line.split("==", 1)
        for line in (REPO_ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    extras = project["optional-dependencies"]
    pins = [*project["dependencies"], *(pin for pins in extras.values() for pin in pins)]
    for pin in pins:
        name, version = pin.split("==")
        assert constraints.get(name) == version, pin
    assert project["scripts"]["ipcai"] == "ipcai.cli:main"
