"""Prometheus metrics for the worker, on their own registry (one set per app instance).

Everything a model does is labelled `model`, so a worker serving several models shows each
one's traffic, latency, batches and queue apart.

CPU per request outside inference (issue 28): `process_cpu_seconds_total` (the standard process
collector), `ipcai_worker_inference_cpu_seconds_total` (CPU of the threads inside the model's
infer calls) and `ipcai_worker_requests_total` give it as
`(rate(process_cpu_seconds_total) - sum(rate(ipcai_worker_inference_cpu_seconds_total)))
/ sum(rate(ipcai_worker_requests_total))`; `ipcai_worker_cpu_seconds_per_request_outside_inference`
is the same since the models were ready, computed at each scrape. It is the bound a GPU host
runs into: its cores divided by this figure is the most requests per second they can feed."""

from __future__ import annotations

import threading
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Seconds; dense below 100 ms where CPU inference lives, up to the 10 s a bad queue could reach.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
    1.0, 1.5, 2.5, 5.0, 10.0,
)  # fmt: skip
BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class CpuTotal:
    """CPU seconds added up from many threads (the lanes of one model)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds = 0.0

    def add(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ipcai_worker_requests",
            "Invocations by model, application type and HTTP status",
            ["model", "application_type", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "ipcai_worker_request_seconds",
            "Whole-request latency inside the worker",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "ipcai_worker_stage_seconds",
            "Latency by stage: decode (bytes to model input), queue, infer, postprocess",
            ["model", "stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "ipcai_worker_batch_size",
            "Images per inference call",
            ["model"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.idle_runs = Counter(
            "ipcai_worker_idle_runs",
            "Lone requests run with every core because the CPU was otherwise idle",
            ["model"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "ipcai_worker_queue_depth",
            "Requests waiting for a lane",
            ["model"],
            registry=self.registry,
        )
        self.busy_lanes = Gauge(
            "ipcai_worker_busy_lanes",
            "Inference lanes running a batch",
            ["model"],
            registry=self.registry,
        )
        self.ready = Gauge(
            "ipcai_worker_ready",
            "1 once every model is loaded and warmed",
            registry=self.registry,
        )
        self.model_info = Gauge(
            "ipcai_worker_model_info",
            "A model being served (value is always 1); default=true for the default one",
            ["model", "family", "backend", "device", "lanes", "max_batch", "default"],
            registry=self.registry,
        )
        self.load_seconds = Gauge(
            "ipcai_worker_model_load_seconds",
            "Time to load a model on all its lanes (an engine build included), by phase",
            ["model", "phase"],
            registry=self.registry,
        )
        self.memory_bytes = Gauge(
            "ipcai_worker_model_memory_bytes",
            "Resident memory the process grew by while loading and warming the model",
            ["model"],
            registry=self.registry,
        )
        # process_cpu_seconds_total, process_resident_memory_bytes, open fds, start time.
        ProcessCollector(registry=self.registry)
        self.inference_cpu_seconds = Counter(
            "ipcai_worker_inference_cpu_seconds",
            "CPU time of the threads calling the model (the backend's infer), by model; the "
            "intra-op threads of a multi-threaded session (the idle all-cores one) not included",
            ["model"],
            registry=self.registry,
        )
        self.cpu_per_request_outside_inference = Gauge(
            "ipcai_worker_cpu_seconds_per_request_outside_inference",
            "Since the models were ready: (process CPU - inference CPU) / requests answered; "
            "HTTP, JSON, base64, decode, preprocessing, post-processing and hand-offs per "
            "request (NaN before the first request)",
            registry=self.registry,
        )

    def observe_stages(self, model: str, **seconds: float) -> None:
        for stage, value in seconds.items():
            self.stage_seconds.labels(model, stage).observe(value)

    def compute_outside_inference(self, per_request: Callable[[], float]) -> None:
        """Evaluate the outside-inference gauge with `per_request` at each scrape."""
        self.cpu_per_request_outside_inference.set_function(per_request)

    def render(self) -> bytes:
        return generate_latest(self.registry)
