"""The HTTP server: SageMaker's container contract (`GET /ping`, `POST /invocations`) plus
`GET /metrics`.

The event loop only moves bytes. The rest runs on threads, which libjpeg-turbo, OpenCV, numpy,
ONNX Runtime and TensorRT all release the GIL for: on a CPU each inference lane runs a whole
request (decode, infer, post-process); where a GPU batches, a thread pool decodes while the
lanes of the dynamic batcher infer and post-process batches (Detector.runs_inline).
Either way one process uses every core and can batch across concurrent requests, which N
separate processes could not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from gpu_worker.answer import WorkerAnswer
from gpu_worker.app_types import DEFAULT_APPLICATION_TYPE
from gpu_worker.batching import BatchInfo, run_on_pool
from gpu_worker.config import WorkerSettings
from gpu_worker.detector import DetectionResult, PreparedImage, SliceJob, job_image
from gpu_worker.errors import WorkerError, too_large
from gpu_worker.images import read_header
from gpu_worker.metrics import CONTENT_TYPE
from gpu_worker.payload import Invocation, parse_invocation
from gpu_worker.regions import find_regions
from gpu_worker.serving import ServedModel, WorkerState

log = logging.getLogger("gpu_worker.server")
access_log = logging.getLogger("gpu_worker.access")
CUSTOM_ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"
STAGES = ("decode", "queue", "infer", "postprocess")


def json_response(
    body: Mapping[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def error_response(error: WorkerError) -> Response:
    return json_response(error.to_body(), error.status, error.headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing anything over `limit` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _body_too_large(int(declared), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _body_too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _not_ready() -> WorkerError:
    return WorkerError(503, "not_ready", "the models are loading", {"Retry-After": "5"})


def _body_too_large(size: int, limit: int) -> WorkerError:
    return too_large(
        "body_too_large",
        f"the body has {size} bytes or more; the limit is {limit} (IPCAI_MAX_BODY_BYTES)",
    )


def create_app(settings: WorkerSettings) -> Starlette:
    state = WorkerState(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loading = asyncio.create_task(state.load())  # held here: the loop keeps only a weak ref
        try:
            yield
        finally:
            if not loading.done():
                loading.cancel()
            await state.close()

    async def ping(request: Request) -> Response:
        if state.ready:
            default = state.models[state.default].detector
            return json_response(
                {
                    "status": "ok",
                    "model": state.default,
                    "backend": default.backend_name,
                    "models": list(state.names),
                }
            )
        if state.load_error:
            return error_response(WorkerError(503, "model_failed", state.load_error))
        return error_response(_not_ready())

    async def metrics(request: Request) -> Response:
        state.update_gauges()
        return Response(state.metrics.render(), media_type=CONTENT_TYPE)

    async def invocations(request: Request) -> Response:
        started = time.perf_counter()
        # scope's path, not request.url: that builds a URL object per request for one field.
        fields: dict[str, Any] = {"method": request.method, "path": request.scope["path"]}
        application_type = "unknown"
        model_name = "unknown"
        try:
            if not state.ready:
                raise _not_ready()
            body = await read_body(request, settings.max_body_bytes)
            fields["bytes_in"] = len(body)
            invocation = parse_invocation(
                request.headers.get("content-type"),
                body,
                request.headers.get(CUSTOM_ATTRIBUTES),
                DEFAULT_APPLICATION_TYPE,
                settings.default_min_confidence,
            )
            application_type = invocation.application_type
            served = state.model(invocation.model)
            model_name = served.name
            result_body = await _detect(state, served, invocation, fields)
            response = json_response(result_body)
        except WorkerError as error:
            fields["error"] = error.code
            response = error_response(error)
        except ClientDisconnect:
            fields["error"] = "client_disconnected"
            response = Response(status_code=499)
        except Exception:
            log.exception("invocation failed")
            fields["error"] = "internal_error"
            response = error_response(
                WorkerError(500, "internal_error", "inference failed; see the worker's log")
            )
        elapsed = time.perf_counter() - started
        state.answered += 1
        status = str(response.status_code)
        state.metrics.requests.labels(model_name, application_type, status).inc()
        state.metrics.request_seconds.labels(model_name).observe(elapsed)
        fields.update(
            status=response.status_code,
            model=model_name,
            application_type=application_type,
            latency_ms=round(elapsed * 1000, 2),
        )
        access_log.info("request", extra={"fields": fields})
        return response

    async def regions(request: Request) -> Response:
        # Faces and plate boxes for the portal's redaction (gpu_worker/regions.py).
        try:
            body = await read_body(request, settings.max_body_bytes)
        except WorkerError as error:
            return error_response(error)
        return await find_regions(state, request, body)

    routes = [
        Route("/ping", ping, methods=["GET"]),
        Route("/invocations", invocations, methods=["POST"]),
        Route("/regions", regions, methods=["POST"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def _detect(
    state: WorkerState, served: ServedModel, invocation: Invocation, fields: dict[str, Any]
) -> WorkerAnswer:
    if served.detector.runs_inline:
        stages, total, info, result = await _detect_inline(served, invocation)
    else:
        stages, total, info, result = await _detect_pipelined(state, served, invocation)
    state.metrics.observe_stages(served.name, **stages)
    timings = {name: round(stages[name] * 1000, 2) for name in STAGES}
    timings["total"] = round(total * 1000, 2)
    fields.update(objects=len(result.labels), batch=info.size, cores=info.cores, timings_ms=timings)
    # mypy wants NotRequired keys (slices) spelled out even beside a ** of another TypedDict.
    answer: WorkerAnswer = {
        **result.to_seed_json(),  # type: ignore[typeddict-item]  # see the comment above
        "application_type": invocation.application_type,
        "model": served.name,
        "timings_ms": timings,
    }
    if result.slices is not None:
        answer["slices"] = result.slices
        fields["slices"] = result.slices["count"]
    return answer


# Per-stage seconds, total seconds, the batch it ran in, the result.
Detected = tuple[dict[str, float], float, BatchInfo, DetectionResult]


async def _detect_inline(served: ServedModel, invocation: Invocation) -> Detected:
    """The whole request runs on one lane (see Detector.runs_inline)."""
    image = job_image(invocation.image, invocation.slices)
    job = (image, invocation.application_type, invocation.min_confidence)
    result, info = await served.batcher.submit(job)
    stages = {**result.timings_s, "queue": info.queue_s}
    return stages, info.queue_s + info.run_s, info, result


async def _detect_pipelined(
    state: WorkerState, served: ServedModel, invocation: Invocation
) -> Detected:
    """Decode on the CPU pool, then infer in a batch and post-process on a lane. On an idle
    device the lane decodes too: nothing would batch with the request meanwhile, and it
    saves a pair of thread hand-offs on the latency that matters most at low load."""
    t0 = time.perf_counter()
    to_prepare = job_image(invocation.image, invocation.slices)
    image: PreparedImage | SliceJob | bytes = to_prepare
    if not served.batcher.idle:
        image = await run_on_pool(state.cpu_pool, served.detector.prepare, to_prepare)
    else:
        # The header alone (microseconds, no decoding) refuses what is not an image or is too
        # large here, so no lane is taken for it.
        read_header(invocation.image, state.settings.max_pixels)
    pooled = time.perf_counter() - t0
    job = (image, invocation.application_type, invocation.min_confidence)
    result, info = await served.batcher.submit(job)
    stages = {"decode": pooled, "queue": info.queue_s, **result.timings_s}  # lane's decode wins
    return stages, time.perf_counter() - t0, info, result
