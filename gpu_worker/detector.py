"""The detection pipeline around one model: bytes → pixels → model input → batch → boxes.

The server runs its steps on different threads (decode pool, inference lanes); the eval and
benchmark scripts call `detect` to run them all in line. Both use the same code, so what the
accuracy table measures is what the server serves.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from gpu_worker.answer import SeedAnswer, SlicesAnswer
from gpu_worker.app_types import APPLICATION_CLASSES, class_ids_for
from gpu_worker.backends import Backend, BackendOptions, candidate_backends, load_first_backend
from gpu_worker.config import WorkerSettings, available_cpus
from gpu_worker.families import Detections, Family, Prepared, create_family
from gpu_worker.gpu_decode import jpeg_decoder_for
from gpu_worker.images import DecodedImage, decode_image, read_header
from gpu_worker.manifest import ModelSpec, get_spec, verified_model_path
from gpu_worker.metrics import CpuTotal
from gpu_worker.slicing import (
    KEEP_OF_INPUT,
    OFF,
    SCREEN_SCORE,
    SliceRequest,
    Window,
    decode_size,
    merge,
    plan_slices,
    reduced,
    screened,
)

log = logging.getLogger(__name__)
GPU_MAX_BATCH = 8  # IPCAI_MAX_BATCH=0 (auto) on a GPU


@dataclass
class PreparedImage:
    decoded: DecodedImage
    prepared: Prepared  # the whole frame
    # Sliced inference (gpu_worker/slicing.py): each slice's window in decoded pixels and its
    # model input; they run in the same batch as the whole frame.
    slices: list[tuple[Window, Prepared]] = field(default_factory=list)
    slice_request: SliceRequest = OFF
    slices_planned: int = 0  # before a CPU's screening dropped those with nothing to add

    @property
    def tiles(self) -> list[Prepared]:
        """The model inputs this image needs: the whole frame, then each slice."""
        return [self.prepared, *(prepared for _, prepared in self.slices)]


@dataclass(frozen=True)
class SliceJob:
    """Image bytes whose request asked for slices (a plain request's job is the bytes)."""

    data: bytes
    request: SliceRequest


def job_image(data: bytes, request: SliceRequest) -> bytes | SliceJob:
    return SliceJob(data, request) if request.wanted else data


@dataclass
class DetectionResult:
    width: int
    height: int
    channels: int
    boxes: np.ndarray  # (n, 4) x1, y1, x2, y2 in original-image pixels
    scores: np.ndarray
    labels: list[str]
    timings_s: dict[str, float] = field(default_factory=dict)
    slices: SlicesAnswer | None = None  # what slicing ran, when the request asked for it

    def to_seed_json(self) -> SeedAnswer:
        """The AWS sample's response shape, which existing integrations parse."""
        return {
            "width": self.width,
            "height": self.height,
            "channels": self.channels,
            "bbox_coords": [[round(v) for v in box] for box in self.boxes.tolist()],
            "bbox_scores": [[round(float(s), 4)] for s in self.scores.tolist()],
            "class_names": [[label] for label in self.labels],
        }


def resident_bytes() -> int:
    """This process's resident memory (Linux /proc; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class LoadReport:
    """What loading a model cost: for /metrics and the per-model table in docs/WORKER.md."""

    load_s: float  # reading, optimising (or building an engine) for every lane
    warmup_s: float
    memory_bytes: int  # growth of the process's resident memory while loading and warming


class Detector:
    """One model, its family adapter and N loaded backend instances (lanes), plus, on a CPU,
    the `wide` lane: one more session with every core's threads, for a lone request when the
    worker is otherwise idle."""

    def __init__(
        self,
        settings: WorkerSettings,
        spec: ModelSpec,
        family: Family,
        lanes: Sequence[Backend],
        wide_lane: Backend | None = None,
    ) -> None:
        self.settings = settings
        self.spec = spec
        self.family = family
        self.lanes = list(lanes)
        self.wide_lane = wide_lane
        self.backend_name = self.lanes[0].name
        self.device = self.lanes[0].device
        wanted = settings.max_batch or (1 if self.device == "cpu" else GPU_MAX_BATCH)
        self.max_batch = min(wanted, self.lanes[0].max_batch_size)
        self.report = LoadReport(0.0, 0.0, 0)
        self.inference_cpu = CpuTotal()  # the calling threads' CPU in lane.infer (/metrics)
        # Slices are screened by the whole frame's candidates of the classes any service
        # answers with (all the model's classes if it has none of them).
        names = spec.class_names
        served = sorted(
            {names.index(n) for ns in APPLICATION_CLASSES.values() for n in ns if n in names}
        )
        self.screen_classes: list[int] | None = served or None
        # nvJPEG on a GPU device where IPCAI_JPEG_DECODER allows (gpu_decode.py), else None.
        self.gpu_decoder = jpeg_decoder_for(settings.jpeg_decoder, self.device)

    @classmethod
    def load(cls, settings: WorkerSettings, name: str | None = None) -> Detector:
        """Verify model `name`'s file (default: the first served model), load it on every
        lane and warm each lane up."""
        memory_before, started = resident_bytes(), time.perf_counter()
        spec = get_spec(name or settings.model, settings.model_dir)
        path = verified_model_path(spec, settings.model_dir)
        family = create_family(
            spec, nms_iou=settings.nms_iou, max_detections=settings.max_detections
        )
        options = BackendOptions(
            threads=settings.threads_per_lane,
            max_batch=settings.max_batch or GPU_MAX_BATCH,
            engine_cache_dir=settings.engine_cache_dir,
            model_sha256=spec.sha256,
            precision=settings.trt_precision,
            fp32_layers=settings.trt_fp32_layers,
            prebuilt_engine_dirs=(settings.model_dir / "engines",),
        )
        # The first lane decides the backend (auto: TensorRT, else ONNX Runtime) and, by its
        # device, how many lanes the machine wants.
        first = load_first_backend(candidate_backends(settings.backend), options, path)

        def new_lane(lane_options: BackendOptions = options) -> Backend:
            lane = type(first)(lane_options)
            lane.load(path)
            return lane

        on_cpu = first.device == "cpu"
        lane_count = settings.lanes or (available_cpus() if on_cpu else 2)
        lanes = [first, *(new_lane() for _ in range(lane_count - 1))]
        wide = None
        wide_threads = settings.effective_idle_threads
        if on_cpu and settings.threads_per_lane == 1 and wide_threads > 1:
            wide = new_lane(replace(options, threads=wide_threads, spinning=False))
        detector = cls(settings, spec, family, lanes, wide)
        loaded = time.perf_counter()
        sample = family.preprocess(np.full((480, 640, 3), 114, np.uint8)).inputs
        for lane in [*lanes, *([wide] if wide else [])]:
            lane.warm_up(sample, batch_size=detector.max_batch)
        warmed = time.perf_counter()
        detector.report = LoadReport(
            loaded - started, warmed - loaded, max(0, resident_bytes() - memory_before)
        )
        log.info(
            "model ready",
            extra={
                "fields": {
                    "model": spec.name,
                    "family": spec.family,
                    "backend": detector.backend_name,
                    "device": detector.device,
                    "lanes": len(lanes),
                    "idle_lane_threads": wide_threads if wide else 0,
                    "max_batch": detector.max_batch,
                    "load_ms": round(detector.report.load_s * 1000, 1),
                    "warmup_ms": round(detector.report.warmup_s * 1000, 1),
                    "memory_mb": round(detector.report.memory_bytes / 2**20, 1),
                }
            },
        )
        return detector

    def prepare(self, data: bytes | SliceJob) -> PreparedImage:
        """Decode (DCT-scaled for large JPEGs) and build the model input: CPU work, kept off
        the event loop (on a lane inline, else on the decode pool).

        Seam (issue 28): this is the fast path, decoding only as many pixels as the model
        input needs, so `decoded.pixels` may be smaller than the image. Whatever needs every
        pixel (slices, plate crops) decodes in full with `decode_image(data, header)`, as
        prepare_sliced does."""
        if isinstance(data, SliceJob):
            return self.prepare_sliced(data.data, data.request)
        header = read_header(data, self.settings.max_pixels)
        min_size = None
        if self.settings.jpeg_dct_scaling:
            min_size = self.family.min_decode_size(header.width, header.height)
        decoded = decode_image(
            data, header, min_size, fast=self.settings.jpeg_fast, gpu=self.gpu_decoder
        )
        return PreparedImage(decoded, self.family.preprocess(decoded.pixels))

    def prepare_sliced(self, data: bytes, request: SliceRequest) -> PreparedImage:
        """The whole frame and the slices planned for it, from one decode at the smallest
        scale every slice still reaches the model input at (slicing.decode_size), each input
        then halved while it stays that large (slicing.reduced): the model sees the same
        detail, for a cheaper decode and resizes. A frame too small to slice is prepared as
        usual."""
        header = read_header(data, self.settings.max_pixels)
        input_size = (self.family.input_width, self.family.input_height)
        letterbox = self.family.letterbox
        windows = plan_slices(header.width, header.height, input_size, request, letterbox)
        if not windows:
            item = self.prepare(data)
            item.slice_request = request
            return item
        min_size = decode_size(header.width, header.height, windows, input_size, letterbox)
        decoded = decode_image(data, header, min_size, fast=self.settings.jpeg_fast)
        pixels = decoded.pixels
        sx, sy = decoded.scale_to_original
        windows = [w.scaled(1 / sx, 1 / sy, pixels.shape[1], pixels.shape[0]) for w in windows]
        # The whole frame halves both sides or neither, as DCT scaling does for the whole
        # frame alone: halving one side left a bilinear shrink of 1.7x on the other, which
        # cost 3x-upscaled COCO's pets .01 mAP.
        whole = self._reduced_input(pixels, 1.0, per_side=False)
        slices = [
            (w, self._reduced_input(pixels[w.y1 : w.y2, w.x1 : w.x2], KEEP_OF_INPUT))
            for w in windows
        ]
        return PreparedImage(decoded, whole, slices, request, len(slices))

    def _reduced_input(self, pixels: np.ndarray, keep: float, per_side: bool = True) -> Prepared:
        """The model input of `pixels` halved while they stay `keep` of the input's size;
        `extra["to_pixels"]` maps its boxes back to `pixels`' (see to_pixels)."""
        input_size = (self.family.input_width, self.family.input_height)
        small, fx, fy = reduced(pixels, input_size, self.family.letterbox, keep, per_side)
        prepared = self.family.preprocess(small)
        prepared.extra["to_pixels"] = (fx, fy)
        return prepared

    def run_batch(self, lane: Backend, items: list[PreparedImage]) -> list[dict[str, np.ndarray]]:
        """Stack the items' inputs (whole frames and slices), run them in as few calls as the
        batch size allows, and split the outputs per item: one row per input, the whole frame
        first. The batch size is the served one (max_batch) within what the model takes: on a
        GPU a request's slices run as one batch with its whole frame (DEIMv2's batch dimension
        is dynamic; static-batch models take one input per call); on a CPU, where batching
        does not pay, one call each (a sliced 1080p frame cost 10% more CPU as one batch of 5:
        docs/BENCHMARKS.md, "Sliced inference")."""
        per_call = max(1, min(lane.max_batch_size, self.max_batch))
        if per_call == 1 and any(item.slices for item in items):
            return self._run_screened(lane, items)
        tiles = [tile for item in items for tile in item.tiles]
        parts = []
        for start in range(0, len(tiles), per_call):
            chunk = tiles[start : start + per_call]
            if len(chunk) == 1:
                batch = chunk[0].inputs
            else:
                names = chunk[0].inputs.keys()
                batch = {n: np.concatenate([t.inputs[n] for t in chunk]) for n in names}
            parts.append(self._infer(lane, batch))
        outputs = (
            parts[0]
            if len(parts) == 1
            else {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        )
        rows, start = [], 0
        for item in items:
            count = 1 + len(item.slices)
            rows.append({k: v[start : start + count] for k, v in outputs.items()})
            start += count
        return rows

    def _infer(self, lane: Backend, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        began = time.thread_time()
        outputs = lane.infer(batch)
        self.inference_cpu.add(time.thread_time() - began)
        return outputs

    def _run_screened(
        self, lane: Backend, items: list[PreparedImage]
    ) -> list[dict[str, np.ndarray]]:
        """One input per call (a CPU): each whole frame first, then only the slices where it
        has a candidate a slice could add or improve, at most `cpu_max_slices` of them, the
        strongest first (slicing.screened); the others are dropped from the item, so the
        answer names the slices that ran."""
        rows = []
        for item in items:
            whole = self._infer(lane, item.prepared.inputs)
            if item.slices:
                candidates = to_pixels(
                    self.family.decode(whole, item.prepared, SCREEN_SCORE, self.screen_classes),
                    item.prepared,
                )
                windows = [w for w, _ in item.slices]
                chosen = screened(windows, candidates, self.settings.cpu_max_slices)
                item.slices = [item.slices[i] for i in chosen]
            outputs = [whole, *(self._infer(lane, p.inputs) for _, p in item.slices)]
            rows.append({k: np.concatenate([o[k] for o in outputs]) for k in whole})
        return rows

    def finish(
        self,
        item: PreparedImage,
        outputs: dict[str, np.ndarray],
        application_type: str | None,
        min_confidence: float,
    ) -> DetectionResult:
        """Decode the model output for this request's classes and threshold, then map boxes
        to original-image pixels (undoing DCT scaling) and clip them to the image."""
        class_ids = (
            None
            if application_type is None
            else class_ids_for(application_type, self.spec.class_names)
        )
        # In the decoded pixels: a sliced frame's whole input may come from halved pixels.
        found: Detections = to_pixels(
            self.family.decode(
                {k: v[:1] for k, v in outputs.items()}, item.prepared, min_confidence, class_ids
            ),
            item.prepared,
        )
        if item.slices:
            found = self._merge_slices(item, outputs, found, min_confidence, class_ids)
        header = item.decoded.header
        sx, sy = item.decoded.scale_to_original
        boxes = found.boxes.astype(np.float32, copy=True)
        boxes[:, 0::2] = np.clip(boxes[:, 0::2] * sx, 0, header.width)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2] * sy, 0, header.height)
        labels = [self.spec.class_names[int(c)] for c in found.class_ids]
        result = DetectionResult(
            header.width, header.height, header.channels, boxes, found.scores, labels
        )
        if item.slice_request.wanted:
            windows = [
                [round(v * (sx if i % 2 == 0 else sy)) for i, v in enumerate(w.as_list())]
                for w, _ in item.slices
            ]
            result.slices = {
                "requested": item.slice_request.mode,
                "planned": item.slices_planned,
                "count": len(windows),
                "windows": windows,
            }
        return result

    def _merge_slices(
        self,
        item: PreparedImage,
        outputs: dict[str, np.ndarray],
        whole: Detections,
        min_confidence: float,
        class_ids: Sequence[int] | None,
    ) -> Detections:
        """Each slice's boxes, moved into the frame, merged with the whole frame's (all in
        decoded pixels: each slice's boxes scaled back from its halved pixels first)."""
        tiles = []
        for row, (window, prepared) in enumerate(item.slices, start=1):
            rows = {k: v[row : row + 1] for k, v in outputs.items()}
            found = to_pixels(
                self.family.decode(rows, prepared, min_confidence, class_ids), prepared
            )
            found.boxes[:, 0::2] += window.x1
            found.boxes[:, 1::2] += window.y1
            tiles.append((window, found))
        height, width = item.decoded.pixels.shape[:2]
        return merge(whole, tiles, (width, height), max_detections=self.family.max_detections)

    def detect(
        self, data: bytes, application_type: str | None = None, min_confidence: float = 0.5
    ) -> DetectionResult:
        """All steps in line on the first lane (eval, benchmarks, tests)."""
        return self.detect_on(self.lanes[0], data, application_type, min_confidence)

    def detect_on(
        self, lane: Backend, data: bytes, application_type: str | None, min_confidence: float
    ) -> DetectionResult:
        """Decode, infer and post-process one image on `lane`, timing each stage."""
        t0 = time.perf_counter()
        item = self.prepare(data)
        t1 = time.perf_counter()
        outputs = self.run_batch(lane, [item])[0]
        t2 = time.perf_counter()
        result = self.finish(item, outputs, application_type, min_confidence)
        t3 = time.perf_counter()
        result.timings_s = {"decode": t1 - t0, "infer": t2 - t1, "postprocess": t3 - t2}
        return result

    @property
    def runs_inline(self) -> bool:
        """On a CPU with batch-1 models each lane does a request's whole pipeline: exactly one
        busy thread per core, no hand-offs between pools, and the queue holds compressed
        bytes rather than 2 MB float tensors. Batching devices (GPU) pipeline instead: the
        CPU pool prepares the next images while the device runs the current batch."""
        if self.settings.pipeline != "auto":
            return self.settings.pipeline == "inline"
        return self.device == "cpu" and self.max_batch == 1

    def run_inline(
        self, lane: Backend, jobs: list[tuple[bytes, str | None, float]]
    ) -> list[DetectionResult | Exception]:
        """run_batch for the inline mode: whole requests, one failure per item at most."""
        results: list[DetectionResult | Exception] = []
        for data, application_type, min_confidence in jobs:
            try:
                results.append(self.detect_on(lane, data, application_type, min_confidence))
            except Exception as exc:  # delivered to that request alone
                results.append(exc)
        return results

    def run_pipelined(
        self, lane: Backend, jobs: list[tuple[PreparedImage | bytes, str | None, float]]
    ) -> list[DetectionResult | Exception]:
        """run_batch for the pipelined mode: one inference for the batch, then each item's
        post-processing on the same lane thread. Post-processing on the decode pool instead
        cost each request one more pair of thread hand-offs; meanwhile the other lane keeps
        the device busy. An item may still be image bytes (a lone request sent straight to
        an idle device): it is decoded here first, one hand-off fewer again."""
        results: dict[int, DetectionResult | Exception] = {}  # by index; every job gets one
        ready: list[tuple[int, PreparedImage, float | None]] = []  # index, item, lane decode s
        for index, (item, _, _) in enumerate(jobs):
            if isinstance(item, PreparedImage):
                ready.append((index, item, None))
                continue
            started = time.perf_counter()
            try:
                ready.append((index, self.prepare(item), time.perf_counter() - started))
            except Exception as exc:  # a corrupt image fails its request alone
                results[index] = exc
        started = time.perf_counter()
        outputs = self.run_batch(lane, [item for _, item, _ in ready]) if ready else []
        inferred = time.perf_counter()
        for (index, item, decode_s), output in zip(ready, outputs, strict=True):
            _, application_type, min_confidence = jobs[index]
            begun = time.perf_counter()
            try:
                result = self.finish(item, output, application_type, min_confidence)
            except Exception as exc:  # delivered to that request alone
                results[index] = exc
                continue
            finished = time.perf_counter()
            result.timings_s = {"infer": inferred - started, "postprocess": finished - begun}
            if decode_s is not None:
                result.timings_s["decode"] = decode_s
            results[index] = result
        return [results[index] for index in range(len(jobs))]

    def close(self) -> None:
        for lane in [*self.lanes, *([self.wide_lane] if self.wide_lane else [])]:
            lane.close()


def to_pixels(found: Detections, prepared: Prepared) -> Detections:
    """Boxes of an input built from halved pixels (Detector._reduced_input), in the pixels
    it was cut from; a copy, so the family's own arrays are never changed."""
    fx, fy = prepared.extra.get("to_pixels", (1.0, 1.0))
    boxes = found.boxes.astype(np.float32, copy=True)
    boxes[:, 0::2] *= fx
    boxes[:, 1::2] *= fy
    return Detections(boxes, found.scores, found.class_ids)
