"""The TensorRT backend's CPU-side decisions, which need no GPU: the engine cache's key, its
recovery from a bad file, its temp-file naming, FP32 layer selection, and the fallback to ONNX
Runtime when a backend fails to load. The engine itself is stood in for by plain bytes: that
part (building, deserializing) can only run on a GPU (test_tensorrt.py)."""

from __future__ import annotations

import logging
import threading

import pytest

from gpu_worker.backends import (
    Backend,
    BackendOptions,
    candidate_backends,
    load_first_backend,
    register_backend,
)
from gpu_worker.backends.tensorrt import (
    BUILD_REVISION,
    cached_or_built,
    engine_file_name,
    matching_layers,
    write_atomically,
)
from gpu_worker.manifest import get_spec
from harness.processes import model_dir

KEY = dict(
    model_stem="deimv2",
    model_sha256="c6ad358f750132b891165e03",
    gpu_name="Tesla T4",
    trt_version="10.13.3.9",
    max_batch=8,
    precision="fp16",
)


def test_engine_name_changes_with_everything_an_engine_depends_on():
    base = engine_file_name(**KEY)
    assert base == engine_file_name(**KEY)
    assert base.startswith("deimv2-c6ad358f7501-Tesla-T4-trt10.13.3.9-b8-fp16-")
    assert base.endswith(f"-r{BUILD_REVISION}.engine")  # a change to the build: new files
    changed = [
        engine_file_name(**{**KEY, field: value})
        for field, value in [
            ("model_sha256", "0" * 24),
            ("gpu_name", "NVIDIA A10G"),
            ("trt_version", "10.14.0"),
            ("max_batch", 16),
            ("precision", "fp32"),
        ]
    ]
    changed.append(engine_file_name(**KEY, fp32_layers=("*GridSample*",)))
    assert len({base, *changed}) == 7
    assert engine_file_name(**KEY, fp32_layers=("a", "b")) == engine_file_name(
        **KEY, fp32_layers=("b", "a")
    )


class FakeTensorRT:
    """Build and deserialize for the cache: an engine is valid bytes that start with ENGINE."""

    def __init__(self) -> None:
        self.builds = 0

    def build(self) -> bytes:
        self.builds += 1
        return b"ENGINE" + bytes([self.builds])

    @staticmethod
    def deserialize(data: bytes):
        return data if data.startswith(b"ENGINE") else None


def test_an_engine_is_built_once_then_loaded_from_the_cache(tmp_path):
    trt = FakeTensorRT()
    first = cached_or_built("m.engine", tmp_path, trt.build, trt.deserialize)
    second = cached_or_built("m.engine", tmp_path, trt.build, trt.deserialize)
    assert first == second == b"ENGINE\x01" and trt.builds == 1
    assert [p.name for p in tmp_path.iterdir()] == ["m.engine"]  # no temp file left


@pytest.mark.parametrize("bad", [b"", b"truncated or from another TensorRT"])
def test_a_corrupt_cached_engine_is_rebuilt_and_replaced(tmp_path, bad):
    (tmp_path / "m.engine").write_bytes(bad)
    trt = FakeTensorRT()
    assert cached_or_built("m.engine", tmp_path, trt.build, trt.deserialize) == b"ENGINE\x01"
    assert (tmp_path / "m.engine").read_bytes() == b"ENGINE\x01" and trt.builds == 1


def test_a_deserializer_that_raises_also_means_rebuild(tmp_path):
    (tmp_path / "m.engine").write_bytes(b"ENGINE-old")
    trt = FakeTensorRT()

    def strict(data: bytes):
        if data == b"ENGINE-old":
            raise RuntimeError("serialization version mismatch")
        return data

    assert cached_or_built("m.engine", tmp_path, trt.build, strict) == b"ENGINE\x01"


def test_prebuilt_engines_are_used_before_building(tmp_path):
    shipped, cache = tmp_path / "model" / "engines", tmp_path / "cache"
    shipped.mkdir(parents=True)
    (shipped / "m.engine").write_bytes(b"ENGINE-shipped")
    trt = FakeTensorRT()
    assert cached_or_built("m.engine", cache, trt.build, trt.deserialize, [shipped]) == (
        b"ENGINE-shipped"
    )
    assert trt.builds == 0 and not cache.exists()


def test_an_engine_that_fails_right_after_its_build_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="could not deserialize"):
        cached_or_built("m.engine", tmp_path, lambda: b"junk", FakeTensorRT.deserialize)
    assert not (tmp_path / "m.engine").exists()


def test_writes_use_a_temp_file_of_their_own(tmp_path):
    """Another process's temp file under the old fixed name is left alone, and concurrent
    writers never mix their bytes: the engine is one writer's bytes, whole."""
    other = tmp_path / "m.engine.tmp"
    other.write_bytes(b"another instance, mid-write")
    payloads = [bytes([i]) * 2_000_000 for i in range(1, 5)]
    threads = [
        threading.Thread(target=write_atomically, args=(tmp_path / "m.engine", data))
        for data in payloads
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (tmp_path / "m.engine").read_bytes() in payloads
    assert other.read_bytes() == b"another instance, mid-write"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.engine", "m.engine.tmp"]


def test_fp32_layers_match_by_pattern():
    names = ["/backbone/conv1", "/decoder/GridSample_3", "/decoder/Log", "/head/Sigmoid"]
    assert matching_layers(names, ["*GridSample*", "/decoder/Log"]) == names[1:3]
    assert matching_layers(names, []) == []


class EngineBuildFails(Backend):
    """Stands in for TensorRT on a GPU where the engine build fails (no GPU here)."""

    name = "failing-gpu"

    def load(self, model_path):
        raise RuntimeError("TensorRT failed to build an engine")

    @property
    def inputs(self):
        return []

    def infer(self, inputs):
        raise AssertionError("never loaded")


def test_auto_falls_back_to_onnxruntime_when_the_first_backend_fails(caplog):
    register_backend("failing-gpu", EngineBuildFails)
    path = model_dir() / get_spec("yolox_nano").file
    with caplog.at_level(logging.WARNING, logger="gpu_worker.backends"):
        lane = load_first_backend(["failing-gpu", "onnxruntime"], BackendOptions(), path)
    assert lane.name == "onnxruntime" and lane.device == "cpu"
    (warning,) = [r for r in caplog.records if "falling back" in r.getMessage()]
    assert warning.fields["fallback"] == "onnxruntime"
    assert "failed to build" in warning.fields["error"]


def test_an_explicit_backend_that_fails_is_an_error_not_a_fallback():
    register_backend("failing-gpu", EngineBuildFails)
    path = model_dir() / get_spec("yolox_nano").file
    with pytest.raises(RuntimeError, match="failed to build"):
        load_first_backend(["failing-gpu"], BackendOptions(), path)


def test_auto_tries_onnxruntime_last_and_explicit_names_alone():
    assert candidate_backends("auto")[-1] == "onnxruntime"
    assert candidate_backends("tensorrt") == ["tensorrt"]
