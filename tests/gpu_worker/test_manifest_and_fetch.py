"""The model manifest and `python -m gpu_worker fetch`, downloading from a real local HTTP
server (the real source URLs are on the internet, which tests never reach)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from gpu_worker.manifest import (
    ModelFileError,
    get_spec,
    load_manifest,
    sha256_of,
    verified_model_path,
)
from harness.processes import ServerProcess, free_port, http_ok, model_dir, python_module


@pytest.fixture
def file_server(tmp_path):
    """A real HTTP server process serving a folder that holds the shared model files."""
    served = tmp_path / "served"
    served.mkdir()
    for name in ("yolox_nano.onnx", "picodet_s_416_coco.onnx"):
        shutil.copy(model_dir() / name, served / name)
    port = free_port()
    server = ServerProcess(
        python_module("http.server", str(port), "--bind", "127.0.0.1", "--directory", str(served)),
        log_path=tmp_path / "http.log",
    ).start()
    server.wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/"))
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_every_builtin_model_has_a_checksum_family_and_source():
    manifest = load_manifest()
    assert {"yolox_nano", "picodet_s_416", "deimv2_femto"} <= set(manifest)
    for spec in manifest.values():
        assert len(spec.sha256) == 64 and spec.source_url.startswith("https://")
        if spec.family != "yunet":  # the face stage behind redaction, not a COCO detector
            assert len(spec.class_names) == 80 and spec.class_names[16] == "dog"


def test_shared_models_match_the_manifest():
    for spec in load_manifest().values():
        assert verified_model_path(spec, model_dir()).is_file()


def test_custom_model_is_one_manifest_entry_in_the_model_folder(tmp_path):
    shutil.copy(model_dir() / "yolox_nano.onnx", tmp_path / "site7.onnx")
    entry = {
        "site7_nano": {
            "family": "yolox",
            "file": "site7.onnx",
            "sha256": sha256_of(tmp_path / "site7.onnx"),
            "input_size": [416, 416],
            "classes": "coco80",
        }
    }
    (tmp_path / "manifest.json").write_text(json.dumps(entry))
    spec = get_spec("site7_nano", tmp_path)
    assert verified_model_path(spec, tmp_path) == tmp_path / "site7.onnx"


def fetch_yolox_nano(target, url: str) -> subprocess.CompletedProcess:
    """`python -m gpu_worker fetch yolox_nano` into target, from url."""
    return subprocess.run(
        python_module("gpu_worker", "fetch", "yolox_nano", "--dir", str(target), "--url", url),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_fetch_downloads_and_verifies(tmp_path, file_server):
    target = tmp_path / "models"
    result = fetch_yolox_nano(target, f"{file_server}/yolox_nano.onnx")
    assert result.returncode == 0, result.stderr
    assert "sha256 verified" in result.stdout
    assert sha256_of(target / "yolox_nano.onnx") == get_spec("yolox_nano").sha256


def test_fetch_of_the_wrong_file_writes_nothing_and_says_why(tmp_path, file_server):
    target = tmp_path / "models"
    result = fetch_yolox_nano(target, f"{file_server}/picodet_s_416_coco.onnx")
    assert result.returncode == 2
    assert "expected " + get_spec("yolox_nano").sha256 in result.stderr
    assert list(target.iterdir()) == []


def test_unknown_model_name_lists_the_known_ones():
    with pytest.raises(KeyError) as missing:
        get_spec("yolov9_xl")
    assert "yolox_nano" in str(missing.value)


def test_verify_reports_missing_file_with_fetch_command(tmp_path):
    with pytest.raises(ModelFileError, match="python -m gpu_worker fetch deimv2_femto"):
        verified_model_path(get_spec("deimv2_femto"), tmp_path)
