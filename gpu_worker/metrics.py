"""Prometheus metrics for the worker, on their own registry (one set per app instance)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Seconds; dense below 100 ms where CPU inference lives, up to the 10 s a bad queue could reach.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
    1.0, 1.5, 2.5, 5.0, 10.0,
)  # fmt: skip
BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ipcai_worker_requests",
            "Invocations by application type and HTTP status",
            ["application_type", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "ipcai_worker_request_seconds",
            "Whole-request latency inside the worker",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "ipcai_worker_stage_seconds",
            "Latency by stage: decode (bytes to model input), queue, infer, postprocess",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "ipcai_worker_batch_size",
            "Images per inference call",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "ipcai_worker_queue_depth", "Requests waiting for a lane", registry=self.registry
        )
        self.busy_lanes = Gauge(
            "ipcai_worker_busy_lanes", "Inference lanes running a batch", registry=self.registry
        )
        self.ready = Gauge(
            "ipcai_worker_ready", "1 once the model is loaded and warmed", registry=self.registry
        )
        self.model_info = Gauge(
            "ipcai_worker_model_info",
            "The model being served (value is always 1)",
            ["model", "family", "backend", "device", "lanes", "max_batch"],
            registry=self.registry,
        )
        self._stages = {
            name: self.stage_seconds.labels(name)
            for name in ("decode", "queue", "infer", "postprocess")
        }

    def observe_stages(self, **seconds: float) -> None:
        for stage, value in seconds.items():
            self._stages[stage].observe(value)

    def render(self) -> bytes:
        return generate_latest(self.registry)
