"""Inference clients: the worker over HTTP, or a SageMaker endpoint carrying the same body.

Both send the raw image bytes (no base64 round trip) with the options in SageMaker's
`X-Amzn-SageMaker-Custom-Attributes` form, and return the worker's JSON answer. Worker trouble
becomes InferenceError with the status the API client should see.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any, NotRequired, Protocol, TypedDict, cast

import orjson
import urllib3
from django.conf import settings
from django.core.signals import setting_changed
from urllib3.exceptions import (
    EmptyPoolError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

logger = logging.getLogger(__name__)

# Worker statuses passed through to the API client: the image was the problem, not the worker.
CLIENT_ERROR_STATUSES = {400, 413, 415}


class WorkerAnswer(TypedDict):
    """The worker's answer (gpu_worker/answer.py, mirrored: the portal never imports the
    worker): the seed's fields, then what the worker adds. Only `bbox_coords` is checked on
    arrival (_parse_success); the rest is the worker's contract."""

    width: int
    height: int
    channels: int
    bbox_coords: list[list[int]]  # [x1, y1, x2, y2] in original-image pixels
    bbox_scores: list[list[float]]  # [score], same order
    class_names: list[list[str]]  # [label], same order
    application_type: str
    model: str
    timings_ms: dict[str, float]
    slices: NotRequired[dict[str, Any]]  # requested, count, windows: when slices were asked
    plates: NotRequired[list[dict[str, Any] | None]]  # license-plates: one per object
    frame_plates: NotRequired[list[dict[str, Any]]]  # license-plates: read with no vehicle


class InferenceError(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class InferenceClient(Protocol):
    def detect(
        self,
        image: bytes,
        content_type: str,
        application_type: str,
        min_confidence: float,
        model: str = "",
        slices: str = "",
    ) -> WorkerAnswer:
        """The worker's response for one image (seed-compatible fields, original pixels),
        from `model` ("" = the worker's default), sliced when `slices` says so."""
        ...


def custom_attributes(
    application_type: str, min_confidence: float, model: str = "", slices: str = ""
) -> str:
    """The worker's options; `slices` is its sliced-inference option ("" = off): `auto`, or
    a camera's zone areas `x1:y1:x2:y2|...` (gpu_worker/slicing.py)."""
    attributes = f"application_type={application_type},min_confidence={min_confidence:g}"
    if model:
        attributes += f",model={model}"
    return f"{attributes},slices={slices}" if slices else attributes


def _worker_error(status: int, body: bytes, retry_after: str | None) -> InferenceError:
    try:
        error = orjson.loads(body)["error"]
        code, message = str(error["code"]), str(error["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        code, message = "worker_error", f"the inference worker answered {status}"
    if status in CLIENT_ERROR_STATUSES:
        return InferenceError(status, code, message)
    if status == 503 and code == "plates_unavailable":  # a worker without the plate reader
        return InferenceError(503, code, "The inference worker cannot read licence plates.")
    if status == 503 and code == "not_ready":
        # Starting or reloading its model: not busy, so clients must not be told to back off
        # as if it were (the worker's own Retry-After, 5 s, says how long loading takes).
        return InferenceError(
            503,
            "worker_unavailable",
            "The inference worker is starting (loading its model); retry shortly.",
            retry_after=_seconds(retry_after or "5"),
        )
    if status == 503:
        return InferenceError(
            503,
            "worker_overloaded",
            "The inference worker is busy; retry shortly.",
            retry_after=_seconds(retry_after),
        )
    logger.error("worker answered %s: %s", status, body[:500])
    return InferenceError(502, "worker_error", "The inference worker failed to process the image.")


def _seconds(value: str | None) -> int:
    try:
        return max(1, int(float(value or 1)))
    except ValueError:
        return 1


def _parse_success(body: bytes) -> WorkerAnswer:
    try:
        result = orjson.loads(body)
    except orjson.JSONDecodeError:
        result = None
    if not isinstance(result, dict) or "bbox_coords" not in result:
        logger.error("worker returned an unreadable answer: %r", body[:500])
        raise InferenceError(502, "worker_error", "The inference worker sent an unreadable answer.")
    return cast(WorkerAnswer, result)  # the worker's contract, bbox_coords checked


class HttpInferenceClient:
    """POST /invocations on the worker over pooled keep-alive connections.

    One retry on a connection error (a keep-alive connection the worker closed, a restart);
    nothing else is retried: a 4xx will not change, and a 503 (worker queue full) goes back to
    the client at once with its Retry-After, since retrying it here would only add load to an
    overloaded worker (a retry storm) and hide the back-pressure from the client.

    `pool_size` bounds the requests this process has in flight to the worker; one that finds
    every connection busy waits up to `queue_timeout` for one, then gets 503 + Retry-After.
    """

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        pool_size: int,
        queue_timeout: float | None = None,
    ) -> None:
        self.pool = urllib3.connection_from_url(
            base_url,
            maxsize=pool_size,
            block=True,  # beyond pool_size, wait for a connection rather than open more
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            retries=False,
        )
        self.pool_timeout = read_timeout if queue_timeout is None else queue_timeout

    def detect(
        self,
        image: bytes,
        content_type: str,
        application_type: str,
        min_confidence: float,
        model: str = "",
        slices: str = "",
    ) -> WorkerAnswer:
        headers = {
            "Content-Type": content_type,
            "Accept": "application/json",
            "X-Amzn-SageMaker-Custom-Attributes": custom_attributes(
                application_type, min_confidence, model, slices
            ),
        }
        for attempt in (1, 2):
            try:
                response = self.pool.urlopen(
                    "POST",
                    "/invocations",
                    body=image,
                    headers=headers,
                    retries=False,
                    pool_timeout=self.pool_timeout,  # type: ignore[arg-type]  # float works
                )
            except ReadTimeoutError:
                raise InferenceError(
                    502, "worker_timeout", "The inference worker did not answer in time."
                ) from None
            except EmptyPoolError:
                raise InferenceError(
                    503, "worker_overloaded", "Too many requests in flight; retry shortly.", 1
                ) from None
            except (NewConnectionError, ProtocolError, HTTPError) as exc:
                if attempt == 1:
                    continue
                logger.warning("worker unreachable: %s", exc)
                raise InferenceError(
                    503, "worker_unavailable", "The inference worker is unavailable.", 5
                ) from None
            if response.status == 200:
                return _parse_success(response.data)
            raise _worker_error(response.status, response.data, response.headers.get("Retry-After"))
        raise AssertionError("unreachable")  # pragma: no cover


class SageMakerInferenceClient:
    """boto3 `invoke_endpoint` with the same body and CustomAttributes as the HTTP client."""

    def __init__(
        self,
        endpoint_name: str,
        *,
        client=None,
        read_timeout: float = 30.0,
        variants: dict[str, str] | None = None,
    ) -> None:
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "sagemaker-runtime",
                config=Config(
                    read_timeout=read_timeout,
                    connect_timeout=settings.IPCAI_WORKER_CONNECT_TIMEOUT_S,
                    max_pool_connections=settings.IPCAI_WORKER_POOL_SIZE,
                    retries={"total_max_attempts": 1},  # one retry of our own, as over HTTP
                ),
            )
        self.client = client
        self.endpoint_name = endpoint_name
        self.variants: dict[str, str] = dict(variants or {})

    def detect(
        self,
        image: bytes,
        content_type: str,
        application_type: str,
        min_confidence: float,
        model: str = "",
        slices: str = "",
    ) -> WorkerAnswer:
        from botocore.exceptions import BotoCoreError, ClientError

        # Layout B (docs/DEPLOY.md 7a): a tier's models live on their own production variant.
        variant = self.variants.get(model)
        target = {"TargetVariant": variant} if variant else {}
        for attempt in (1, 2):
            try:
                response = self.client.invoke_endpoint(
                    EndpointName=self.endpoint_name,
                    Body=image,
                    ContentType=content_type,
                    Accept="application/json",
                    CustomAttributes=custom_attributes(
                        application_type, min_confidence, model, slices
                    ),
                    **target,
                )
                return _parse_success(response["Body"].read())
            except ClientError as exc:
                # Throttling / busy included: passed on at once, as the HTTP client does.
                raise _sagemaker_error(exc) from None
            except BotoCoreError as exc:  # connection trouble, timeouts: retried once
                logger.warning("SageMaker runtime unreachable: %s", exc)
                if attempt == 2:
                    raise InferenceError(
                        503, "worker_unavailable", "The inference endpoint is unavailable.", 5
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover


def _sagemaker_error(exc) -> InferenceError:
    response = exc.response
    code = response.get("Error", {}).get("Code", "")
    if code == "ModelError":  # the container answered non-2xx; its own status and body
        status = int(response.get("OriginalStatusCode", 502))
        body = response.get("OriginalMessage", "").encode()
        return _worker_error(status, body, None)
    if code == "ModelNotReadyException":
        return InferenceError(
            503, "worker_unavailable", "The inference endpoint is not ready yet.", 5
        )
    if code in {"ServiceUnavailable", "ThrottlingException"}:
        return InferenceError(503, "worker_overloaded", "The inference endpoint is busy.", 1)
    logger.error("SageMaker invoke_endpoint failed: %s", exc)
    return InferenceError(502, "worker_error", "The inference endpoint failed.")


@cache
def get_inference_client() -> InferenceClient:
    """The configured client, one per process (its connection pool is shared by threads)."""
    if settings.IPCAI_INFERENCE_CLIENT == "sagemaker":
        return SageMakerInferenceClient(
            settings.IPCAI_SAGEMAKER_ENDPOINT,
            read_timeout=settings.IPCAI_WORKER_READ_TIMEOUT_S,
            variants=settings.IPCAI_SAGEMAKER_VARIANTS,
        )
    return HttpInferenceClient(
        settings.IPCAI_WORKER_URL,
        connect_timeout=settings.IPCAI_WORKER_CONNECT_TIMEOUT_S,
        read_timeout=settings.IPCAI_WORKER_READ_TIMEOUT_S,
        pool_size=settings.IPCAI_WORKER_POOL_SIZE,
        queue_timeout=settings.IPCAI_WORKER_QUEUE_TIMEOUT_S,
    )


def _reset(setting: str, **_: object) -> None:
    if setting.startswith("IPCAI_WORKER") or setting in {
        "IPCAI_SAGEMAKER_ENDPOINT",
        "IPCAI_SAGEMAKER_VARIANTS",
        "IPCAI_INFERENCE_CLIENT",
    }:
        get_inference_client.cache_clear()


setting_changed.connect(_reset)
