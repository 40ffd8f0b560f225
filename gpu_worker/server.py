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
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

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
CUSTOM_ATTRIBUTES_KEY = b"x-amzn-sagemaker-custom-attributes"  # ASGI: lower-case bytes
STAGES = ("decode", "queue", "infer", "postprocess")


def json_response(
    body: Mapping[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def error_response(error: WorkerError) -> Response:
    return json_response(error.to_body(), error.status, error.headers)


async def read_body(request: Request, limit: int) -> bytes:
    """receive_body for a Starlette route (/regions)."""
    declared = request.headers.get("content-length")
    return await receive_body(request.receive, declared.encode() if declared else None, limit)


async def receive_body(receive: Receive, declared: bytes | None, limit: int) -> bytes:
    """The body, refusing anything over `limit` bytes before reading it all: at once when the
    declared length says so, else as soon as what arrived passes it. On the raw ASGI channel,
    so the /invocations fast path needs no Request object."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _body_too_large(int(declared), limit)
    first = b""
    chunks: list[bytes] | None = None  # most bodies arrive in one message: no join then
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _body_too_large(size, limit)
        if chunks is not None:
            chunks.append(chunk)
        elif first and chunk:
            chunks = [first, chunk]
        elif chunk:
            first = chunk
        if not message.get("more_body", False):
            return b"".join(chunks) if chunks is not None else first


JSON_HEADERS = [(b"content-type", b"application/json")]


async def send_json(
    send: Send, content: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> None:
    """What json_response sends, without a Response object (the /invocations fast path)."""
    raw = [*JSON_HEADERS, (b"content-length", str(len(content)).encode())]
    if headers:
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


def _not_ready() -> WorkerError:
    return WorkerError(503, "not_ready", "the models are loading", {"Retry-After": "5"})


def _body_too_large(size: int, limit: int) -> WorkerError:
    return too_large(
        "body_too_large",
        f"the body has {size} bytes or more; the limit is {limit} (IPCAI_MAX_BODY_BYTES)",
    )


def create_app(settings: WorkerSettings) -> WorkerApp:
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

    async def invocations(scope: Scope, receive: Receive, send: Send) -> None:
        """POST /invocations on the raw ASGI channel: no routing, middleware, Request or
        Response objects on the hot path (issue 28: the event loop's CPU per request)."""
        started = time.perf_counter()
        fields: dict[str, Any] = {"method": "POST", "path": "/invocations"}
        application_type = "unknown"
        model_name = "unknown"
        content_type = attributes = length = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == CUSTOM_ATTRIBUTES_KEY:
                attributes = value.decode("latin-1")
            elif name == b"content-length":
                length = value
        status, headers = 200, None
        try:
            if not state.ready:
                raise _not_ready()
            body = await receive_body(receive, length, settings.max_body_bytes)
            fields["bytes_in"] = len(body)
            invocation = parse_invocation(
                content_type,
                body,
                attributes,
                DEFAULT_APPLICATION_TYPE,
                settings.default_min_confidence,
            )
            application_type = invocation.application_type
            served = state.model(invocation.model)
            model_name = served.name
            content = orjson.dumps(await _detect(state, served, invocation, fields))
        except WorkerError as error:
            fields["error"] = error.code
            status, content, headers = error.status, orjson.dumps(error.to_body()), error.headers
        except ClientDisconnect:
            fields["error"] = "client_disconnected"
            status, content = 499, b""
        except Exception:
            log.exception("invocation failed")
            fields["error"] = "internal_error"
            failure = WorkerError(500, "internal_error", "inference failed; see the worker's log")
            status, content = 500, orjson.dumps(failure.to_body())
        elapsed = time.perf_counter() - started
        await send_json(send, content, status, headers)
        state.answered += 1
        state.metrics.requests.labels(model_name, application_type, str(status)).inc()
        state.metrics.request_seconds.labels(model_name).observe(elapsed)
        if access_log.isEnabledFor(logging.INFO):
            fields.update(
                status=status,
                model=model_name,
                application_type=application_type,
                latency_ms=round(elapsed * 1000, 2),
            )
            access_log.info("request", extra={"fields": fields})

    async def regions(request: Request) -> Response:
        # Faces and plate boxes for the portal's redaction (gpu_worker/regions.py).
        try:
            body = await read_body(request, settings.max_body_bytes)
        except WorkerError as error:
            return error_response(error)
        return await find_regions(state, request, body)

    routes = [
        Route("/ping", ping, methods=["GET"]),
        # The router takes /invocations only from a caller that bypasses WorkerApp, and
        # answers its other methods 405 with `Allow: POST` like any route's.
        Route("/invocations", AsgiEndpoint(invocations), methods=["POST"]),
        Route("/regions", regions, methods=["POST"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    return WorkerApp(Starlette(routes=routes, lifespan=lifespan), invocations)


Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


class AsgiEndpoint:
    """A raw ASGI handler as a Starlette route's endpoint (a plain function would be
    wrapped in Request/Response)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handler(scope, receive, send)


class WorkerApp:
    """The ASGI app: `POST /invocations`, the hot path, goes straight to its handler; every
    other request and the lifespan go through Starlette. Its router, middleware and
    Request/Response objects were ~0.15 of the loop's 1.2-1.5 CPU ms per request under ab at a
    load average of 9-12 (issue 28, docs/BENCHMARKS.md)."""

    def __init__(self, app: Starlette, invocations: Handler) -> None:
        self.app = app
        self._invocations = invocations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = scope["type"] == "http" and scope["method"] == "POST"  # lifespan: no path
        if hot and scope["path"] == "/invocations":
            await self._invocations(scope, receive, send)
        else:
            await self.app(scope, receive, send)


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
