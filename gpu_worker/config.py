"""Worker settings, read once from the environment (12-factor) with safe local defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class SettingsError(ValueError):
    """An environment variable holds a value the worker cannot use."""


def available_cpus() -> int:
    """CPUs this process may run on (respects taskset / container cpusets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class WorkerSettings:
    """Everything the worker is configured by; see README's worker section for each variable."""

    model_dir: Path = Path("/opt/ml/model")  # SageMaker's model location
    model: str = "deimv2_femto"  # chosen by measurement: docs/BENCHMARKS.md
    # Several models in one worker (IPCAI_MODELS=deimv2_femto,yolox_nano); the first is the
    # default a request gets when it names none. Empty: just `model` (IPCAI_MODEL).
    models: tuple[str, ...] = ()
    backend: str = "auto"  # onnxruntime | tensorrt | auto
    # Loopback: /invocations has no authentication, so a worker started by hand is not reachable
    # from the network. The container's `serve` listens on every interface, as SageMaker needs.
    host: str = "127.0.0.1"
    port: int = 8080
    # Parallel inference lanes (one model instance each). 0 = one per CPU on the CPU backend,
    # where one single-threaded session per core beat one session on all cores by 1.4-1.6x
    # (shared/models/README.md); 2 on a GPU (detector.py), where batching is the lever and a
    # second lane prepares one batch while the other runs.
    lanes: int = 0
    threads_per_lane: int = 1
    # A lone request on an otherwise idle CPU worker runs on one extra session with this many
    # threads (0 = all CPUs, 1 = off): on two cores the bare DEIMv2 went from 44 to 30 ms p50,
    # YOLOX-Nano from 20 to 15 ms, while under load the single-threaded lanes keep their
    # throughput (docs/BENCHMARKS.md, "Worker: low-load latency and several models").
    idle_threads: int = 0
    # 0 = auto: 1 on a CPU, where batching does not pay (DEIMv2 on one thread: 28.6 / 26.6 /
    # 20.3 / 22.4 images/s at batch 1 / 2 / 4 / 8), 8 on a GPU. Capped by the model's batch dim.
    max_batch: int = 0
    max_wait_ms: float = 2.0  # how long a free lane waits to fill a batch
    # Requests waiting for a lane. Beyond this the worker answers 503 + Retry-After rather
    # than queueing without bound; 256 holds 80 concurrent cameras with room to spare.
    max_queue: int = 256
    decode_threads: int = 0  # 0 = one per CPU
    # auto: `inline` (each lane runs whole requests) on a CPU with batch 1, else `pipelined`
    # (a CPU pool decodes while the lanes infer and post-process batches). See
    # Detector.runs_inline.
    pipeline: str = "auto"
    max_body_bytes: int = 20 * 1024 * 1024  # a 4K JPEG as base64 JSON is ~3-6 MB
    max_pixels: int = 40_000_000  # 8K UHD is 33.2 MP; checked from the header before decoding
    # 0.5: below it the accurate models (DEIMv2, PicoDet) trade much precision for little
    # recall, and DEIMv2 repeats boxes (precision/recall table in docs/BENCHMARKS.md).
    default_min_confidence: float = 0.5
    nms_iou: float = 0.45
    max_detections: int = 100
    jpeg_dct_scaling: bool = True  # decode large JPEGs at 1/2, 1/4 or 1/8 scale in the DCT
    # libjpeg-turbo's fast IDCT/upsampling: ~0.1 ms per frame here, not worth the measurable
    # accuracy change it made on the eval set (docs/BENCHMARKS.md), so off by default.
    jpeg_fast: bool = False
    # auto: JPEGs decoded on the GPU (nvJPEG via nvImageCodec, the gpu extra) when the model
    # runs on one and the package imports, else on the CPU; cpu: never; nvjpeg: required.
    jpeg_decoder: str = "auto"
    # Sliced inference on a CPU (one call per slice): at most this many of a frame's screened
    # slices run, the strongest small-object evidence first (0 = every screened slice). 3 of a
    # 2x2 plan kept a busy 1080p frame under 4x the whole frame's CPU for the same COCO
    # accuracy (docs/BENCHMARKS.md, "Sliced inference"). A GPU runs every slice in its batch.
    cpu_max_slices: int = 3
    # The plate reader (gpu_worker/stages/plates.py) loads when its weights are installed;
    # off saves its memory and load time on workers that never serve license-plates.
    plates: bool = True
    engine_cache_dir: Path = field(
        default_factory=lambda: Path.home() / ".cache" / "ipcai" / "engines"
    )
    # TensorRT: fp16 (default) or fp32, and layer names (fnmatch patterns) kept in FP32 inside
    # an FP16 engine, for models whose FP16 accuracy fails the parity test (docs/WORKER.md).
    trt_precision: str = "fp16"
    trt_fp32_layers: tuple[str, ...] = ()
    log_level: str = "INFO"
    graceful_timeout_s: int = 30

    @property
    def effective_decode_threads(self) -> int:
        return self.decode_threads or available_cpus()

    @property
    def served_models(self) -> tuple[str, ...]:
        """The models this worker loads, the default first."""
        return self.models or (self.model,)

    @property
    def effective_idle_threads(self) -> int:
        return self.idle_threads or available_cpus()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerSettings:
        env = os.environ if env is None else env
        d = cls()
        backend = env.get("IPCAI_BACKEND", d.backend).strip().lower()
        if backend not in {"onnxruntime", "tensorrt", "auto"}:
            raise SettingsError(
                f"IPCAI_BACKEND={backend!r}: expected onnxruntime, tensorrt or auto"
            )
        pipeline = env.get("IPCAI_PIPELINE", d.pipeline).strip().lower()
        if pipeline not in {"auto", "inline", "pipelined"}:
            raise SettingsError(f"IPCAI_PIPELINE={pipeline!r}: expected auto, inline or pipelined")
        jpeg_decoder = env.get("IPCAI_JPEG_DECODER", d.jpeg_decoder).strip().lower()
        if jpeg_decoder not in {"auto", "cpu", "nvjpeg"}:
            raise SettingsError(
                f"IPCAI_JPEG_DECODER={jpeg_decoder!r}: expected auto, cpu or nvjpeg"
            )
        precision = env.get("IPCAI_TRT_PRECISION", d.trt_precision).strip().lower()
        if precision not in {"fp16", "fp32"}:
            raise SettingsError(f"IPCAI_TRT_PRECISION={precision!r}: expected fp16 or fp32")
        models = _names(env, "IPCAI_MODELS")
        return cls(
            pipeline=pipeline,
            jpeg_decoder=jpeg_decoder,
            model_dir=Path(env.get("IPCAI_MODEL_DIR", str(d.model_dir))),
            model=models[0] if models else env.get("IPCAI_MODEL", d.model),
            models=models,
            idle_threads=_int(env, "IPCAI_IDLE_THREADS", d.idle_threads, minimum=0),
            trt_precision=precision,
            trt_fp32_layers=_names(env, "IPCAI_TRT_FP32_LAYERS"),
            backend=backend,
            host=env.get("HOST", d.host),
            port=_int(env, "PORT", d.port, minimum=1),
            lanes=_int(env, "IPCAI_LANES", d.lanes, minimum=0),
            threads_per_lane=_int(env, "IPCAI_THREADS_PER_LANE", d.threads_per_lane, minimum=1),
            max_batch=_int(env, "IPCAI_MAX_BATCH", d.max_batch, minimum=0),
            max_wait_ms=_float(env, "IPCAI_MAX_WAIT_MS", d.max_wait_ms, minimum=0.0),
            max_queue=_int(env, "IPCAI_MAX_QUEUE", d.max_queue, minimum=1),
            decode_threads=_int(env, "IPCAI_DECODE_THREADS", d.decode_threads, minimum=0),
            max_body_bytes=_int(env, "IPCAI_MAX_BODY_BYTES", d.max_body_bytes, minimum=1),
            max_pixels=_int(env, "IPCAI_MAX_PIXELS", d.max_pixels, minimum=1),
            default_min_confidence=_float(
                env, "IPCAI_MIN_CONFIDENCE", d.default_min_confidence, minimum=0.0
            ),
            nms_iou=_float(env, "IPCAI_NMS_IOU", d.nms_iou, minimum=0.0),
            max_detections=_int(env, "IPCAI_MAX_DETECTIONS", d.max_detections, minimum=1),
            jpeg_dct_scaling=_bool(env, "IPCAI_JPEG_DCT_SCALING", d.jpeg_dct_scaling),
            jpeg_fast=_bool(env, "IPCAI_JPEG_FAST", d.jpeg_fast),
            plates=_bool(env, "IPCAI_PLATES", d.plates),
            cpu_max_slices=_int(env, "IPCAI_CPU_MAX_SLICES", d.cpu_max_slices, minimum=0),
            engine_cache_dir=Path(env.get("IPCAI_ENGINE_CACHE_DIR", str(d.engine_cache_dir))),
            log_level=env.get("LOG_LEVEL", d.log_level).upper(),
            graceful_timeout_s=_int(env, "IPCAI_GRACEFUL_TIMEOUT_S", d.graceful_timeout_s),
        )


def _names(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped, repeats removed, order kept."""
    raw = env.get(name) or ""
    return tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


def _int(env: Mapping[str, str], name: str, default: int, minimum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected an integer") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name}={raw!r}: must be >= {minimum}")
    return value


def _float(
    env: Mapping[str, str], name: str, default: float, minimum: float | None = None
) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a number") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name}={raw!r}: must be >= {minimum}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}={raw!r}: expected true or false")
