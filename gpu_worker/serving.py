"""The models a worker serves: each one's detector, lanes and batcher, on one shared device.

IPCAI_MODELS lists them, the first being the default. Each model has its own batcher (a batch
never mixes models: their inputs differ) and its own lanes; all of them draw on one
`DeviceShare`, so on a CPU the models together run at most one inference per core.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from gpu_worker.batching import BatchInfo, DynamicBatcher, RunBatch
from gpu_worker.config import WorkerSettings, available_cpus
from gpu_worker.detector import Detector
from gpu_worker.errors import bad_request
from gpu_worker.metrics import WorkerMetrics
from gpu_worker.sharing import DeviceShare
from gpu_worker.stages.plates import PlateStage

log = logging.getLogger(__name__)


@dataclass
class ServedModel:
    name: str
    detector: Detector
    batcher: DynamicBatcher
    lane_pool: ThreadPoolExecutor


class WorkerState:
    """What the routes share: the loaded models, the decode pool, the device, metrics."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.names = settings.served_models
        self.default = self.names[0]
        self.metrics = WorkerMetrics()
        self.models: dict[str, ServedModel] = {}
        self.load_error: str | None = None
        self.cpu_pool = ThreadPoolExecutor(settings.effective_decode_threads, "decode")
        self.share: DeviceShare | None = None
        self.plates: PlateStage | None = None
        self.loaded = False
        self.answered = 0  # /invocations answered, any status (the server counts them)
        # Process CPU, the models' inference CPU and `answered` when the models were ready:
        # the baseline of the outside-inference gauge, which loading and warm-up would skew.
        self._at_ready = (0.0, 0.0, 0)
        self._inference_reported: dict[str, float] = {}

    @property
    def ready(self) -> bool:
        """Every listed model is loaded and warmed (SageMaker's /ping must mean all)."""
        return self.loaded

    def model(self, name: str | None) -> ServedModel:
        """The model a request names (None: the default); 400 listing the loaded ones."""
        served = self.models.get(name or self.default)
        if served is None:
            raise bad_request(
                "unknown_model",
                f"unknown model {name!r}; loaded: {', '.join(self.names)}",
            )
        return served

    async def load(self) -> None:
        """Load and warm each model in turn, off the event loop, so /ping answers 503
        meanwhile (one at a time: loads in parallel would compete for the same cores)."""
        loop = asyncio.get_running_loop()
        self.plates = await loop.run_in_executor(None, PlateStage.load, self.settings)
        for name in self.names:
            try:
                detector = await loop.run_in_executor(None, Detector.load, self.settings, name)
            except Exception as exc:
                self.load_error = f"model {name!r}: {exc}"
                log.exception("model failed to load", extra={"fields": {"model": name}})
                raise
            if self.share is None:
                # One slot per core on a CPU; a GPU's lanes are not limited by slots.
                cpu = detector.device == "cpu"
                self.share = DeviceShare(available_cpus() if cpu else None)
            self.models[name] = self._serve(detector)
        self.metrics.ready.set(1)
        self._at_ready = (time.process_time(), self._inference_cpu(), self.answered)
        self.metrics.compute_outside_inference(self.cpu_per_request_outside_inference)
        self.loaded = True

    def _inference_cpu(self) -> float:
        return sum(served.detector.inference_cpu.seconds for served in self.models.values())

    def cpu_per_request_outside_inference(self) -> float:
        """Process CPU seconds per answered request since ready, less the models' own
        inference CPU (NaN until a request has been answered)."""
        cpu, inference, answered = self._at_ready
        requests = self.answered - answered
        if requests <= 0:
            return math.nan
        outside = (time.process_time() - cpu) - (self._inference_cpu() - inference)
        return outside / requests

    def _serve(self, detector: Detector) -> ServedModel:
        name = detector.spec.name
        wide = detector.wide_lane
        lane_pool = ThreadPoolExecutor(len(detector.lanes) + (1 if wide else 0), f"lane-{name}")
        batch_sizes = self.metrics.batch_size.labels(name)
        idle_runs = self.metrics.idle_runs.labels(name)

        def on_batch(info: BatchInfo) -> None:
            batch_sizes.observe(info.size)
            if info.cores > 1:
                idle_runs.inc()

        run_batch: RunBatch = (
            detector.run_inline if detector.runs_inline else detector.run_pipelined
        )
        if self.plates is not None:
            run_batch = self.plates.wrap(run_batch)
        batcher = DynamicBatcher(
            detector.lanes,
            run_batch,
            lane_pool,
            max_batch=detector.max_batch,
            max_wait_s=self.settings.max_wait_ms / 1000,
            max_queue=self.settings.max_queue,
            on_batch=on_batch,
            share=self.share,
            wide_lane=wide,
            cores_per_run=self.settings.threads_per_lane,
        )
        batcher.start()
        self.metrics.model_info.labels(
            name,
            detector.spec.family,
            detector.backend_name,
            detector.device,
            str(len(detector.lanes)),
            str(detector.max_batch),
            str(name == self.default).lower(),
        ).set(1)
        report = detector.report
        self.metrics.load_seconds.labels(name, "load").set(report.load_s)
        self.metrics.load_seconds.labels(name, "warmup").set(report.warmup_s)
        self.metrics.memory_bytes.labels(name).set(report.memory_bytes)
        return ServedModel(name, detector, batcher, lane_pool)

    def update_gauges(self) -> None:
        for served in self.models.values():
            self.metrics.queue_depth.labels(served.name).set(served.batcher.queue_depth)
            self.metrics.busy_lanes.labels(served.name).set(served.batcher.busy_lanes)
            # The lanes add to a plain total (no lock per metric on the hot path); the
            # counter catches up here, at scrape time.
            total = served.detector.inference_cpu.seconds
            reported = self._inference_reported.get(served.name, 0.0)
            self.metrics.inference_cpu_seconds.labels(served.name).inc(total - reported)
            self._inference_reported[served.name] = total

    async def close(self) -> None:
        timeout = self.settings.graceful_timeout_s
        await asyncio.gather(*(m.batcher.close(timeout) for m in self.models.values()))
        for served in self.models.values():
            served.lane_pool.shutdown(wait=True)
        self.cpu_pool.shutdown(wait=True)
        for served in self.models.values():
            served.detector.close()
