"""Sync and async clients of the IPC AI detection service.

Both share one request builder, one response parser and one RetryPolicy; only the waiting and
the HTTP calls differ. The API key and base URL come from arguments or from the environment
(`IPCAI_API_KEY`, `IPCAI_URL`), so a camera script carries no secret in its source.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ipcai import __version__
from ipcai.errors import APIError, ConfigurationError, IpcaiError, NetworkError, error_for_status
from ipcai.images import ImageInput, encode_image
from ipcai.models import DetectionResult
from ipcai.retry import RetryPolicy, parse_retry_after

ENV_API_KEY = "IPCAI_API_KEY"
ENV_URL = "IPCAI_URL"
DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0
SERVICES = ("persons-detection", "pets-detection", "vehicles-detection")
# A service name becomes part of the URL path: allow nothing that could change the path.
_SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

logger = logging.getLogger("ipcai")


def resolve_api_key(api_key: str | None) -> str:
    """The key given, else IPCAI_API_KEY; a clear error when neither is set."""
    key = api_key or os.environ.get(ENV_API_KEY, "")
    if not key.strip():
        raise ConfigurationError(
            f"no API key: set {ENV_API_KEY} (or pass --api-key KEY to the ipcai command, "
            "api_key=... in Python)"
        )
    return key.strip()


class InsecureKeyWarning(UserWarning):
    """The API key would travel unencrypted: plain http:// to a host that is not this one."""


def resolve_base_url(base_url: str | None) -> str:
    """The URL given, else IPCAI_URL, else the local `make run` portal."""
    url = (base_url or os.environ.get(ENV_URL) or DEFAULT_URL).strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"base URL must start with http:// or https://, got {url!r}")
    warn_if_key_in_clear(url)
    return url


def warn_if_key_in_clear(url: str) -> None:
    """Warn (once per place) when the key would cross a network unencrypted."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or host == "localhost" or host.endswith(".localhost"):
        return
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_loopback:
            return
    warnings.warn(
        f"{url} is plain http: the API key is sent unencrypted to {host}; use https://",
        InsecureKeyWarning,
        stacklevel=4,
    )


def _check_service(service: str) -> str:
    if not _SERVICE_NAME.match(service):
        raise ConfigurationError(f"invalid service name {service!r} (e.g. {SERVICES[0]})")
    return service


SLICES = ("auto", "off")


def _check_slices(slices: str) -> str:
    """The native API's `slices` option; anything else is the caller's mistake, said before
    a request is sent."""
    if slices not in SLICES:
        raise ConfigurationError(f"slices must be 'auto' or 'off', got {slices!r}")
    return slices


def error_from_response(response: httpx.Response) -> APIError:
    """An APIError from the service's `{"error": {"code", "message"}}` body (or any body)."""
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        code = str(error.get("code") or "error")
        message = str(error.get("message") or response.reason_phrase)
    else:
        # Not the service's envelope: a proxy or load balancer answered.
        code = "http_error"
        message = response.text[:200].strip() or response.reason_phrase
    return error_for_status(response.status_code, code, message, retry_after=retry_after, body=body)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise IpcaiError(
            f"the service answered {response.status_code} with a body that is not JSON"
        ) from exc


class _BaseClient:
    """Settings and request building shared by Client and AsyncClient."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.api_key = resolve_api_key(api_key)
        self.base_url = resolve_base_url(base_url)
        self.retry = retry or RetryPolicy()
        # Connecting should be quick even when inference is not: fail fast on a dead host.
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))

    def __repr__(self) -> str:  # never print the key
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def _headers(self) -> dict[str, str]:
        return {
            "x-api-key": self.api_key,
            "Accept": "application/json",
            "User-Agent": f"ipcai-python/{__version__}",
        }

    def _detect_args(
        self,
        body: bytes,
        content_type: str,
        service: str,
        min_confidence: float | None,
        camera: str | None = None,
        captured_at: float | None = None,
        slices: str | None = None,
    ) -> dict[str, Any]:
        params = {} if min_confidence is None else {"min_confidence": f"{min_confidence:g}"}
        if slices is not None:  # sliced inference: auto | off; None leaves it to tier / camera
            params["slices"] = _check_slices(slices)
        if camera:
            params["camera"] = camera  # the camera's zones, masks and thresholds apply
        if captured_at is not None:  # camera events run on capture time, not arrival
            params["timestamp"] = f"{captured_at:.3f}"
        return {
            "url": f"{self.base_url}/api/v1/detect/{_check_service(service)}",
            "params": params,
            "content": body,
            "headers": {"Content-Type": content_type},
        }

    def _retry_delay(
        self,
        method: str,
        url: str,
        attempt: int,
        *,
        failure: httpx.TransportError | None = None,
        response: httpx.Response | None = None,
        idempotent: bool = True,
    ) -> float:
        """Seconds to wait before the next attempt after a transport failure or an error
        response; raises NetworkError / APIError when the policy says to stop. Shared by the
        sync and async clients, which differ only in how they send and sleep."""
        if failure is not None:
            delay = self.retry.delay_for_exception(attempt, failure, idempotent)
            if delay is None:
                raise NetworkError(f"{method} {url}: {failure!r}") from failure
            reason = type(failure).__name__
        elif response is not None:
            error = error_from_response(response)
            delay = self.retry.delay_for_status(attempt, error.status, error.retry_after)
            if delay is None:
                raise error
            reason = f"HTTP {error.status}"
        else:
            raise TypeError("_retry_delay needs the failure or the response")
        logger.info(
            "%s %s: %s; retry %d/%d in %.2fs",
            method,
            url,
            reason,
            attempt + 1,
            self.retry.max_retries,
            delay,
        )
        return delay


class Client(_BaseClient):
    """Blocking client; one instance keeps a pool of keep-alive connections. Thread-safe."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(api_key, base_url, timeout=timeout, retry=retry)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self.timeout)
        self._sleep = sleep

    def detect(
        self,
        image: ImageInput,
        service: str,
        *,
        min_confidence: float | None = None,
        camera: str | None = None,
        captured_at: float | None = None,
        slices: str | None = None,
    ) -> DetectionResult:
        """Detect the service's classes in one image (bytes, path or PIL image), as `camera`
        (its id) when given, captured at `captured_at` (Unix seconds) when known. `slices`
        ("auto" or "off") asks for sliced inference or turns it off (None: as the service's
        tier or the camera says); `result.slices` then names the slices that ran."""
        body, content_type = encode_image(image)
        response = self.request(
            "POST",
            **self._detect_args(
                body, content_type, service, min_confidence, camera, captured_at, slices
            ),
        )
        return DetectionResult.from_json(_json(response), service)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return _json(self.request("GET", f"{self.base_url}{path}", params=params))

    def send_json(self, method: str, path: str, payload: Any = None) -> Any:
        response = self.request(method, f"{self.base_url}{path}", json=payload, idempotent=False)
        return None if response.status_code == 204 or not response.content else _json(response)

    def request(
        self, method: str, url: str, *, idempotent: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """Send with retries; return a 2xx response or raise APIError / NetworkError."""
        headers = {**self._headers, **kwargs.pop("headers", {})}
        attempt = 0
        while True:
            try:
                response = self._http.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                delay = self._retry_delay(method, url, attempt, failure=exc, idempotent=idempotent)
            else:
                if response.is_success:
                    return response
                delay = self._retry_delay(method, url, attempt, response=response)
            self._sleep(delay)
            attempt += 1

    def stream(self, method: str, url: str) -> contextlib.AbstractContextManager[httpx.Response]:
        """A response whose body is read as it arrives (downloads); no retries."""
        return self._http.stream(method, url, headers={**self._headers, "Accept": "*/*"})

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncClient(_BaseClient):
    """asyncio client: many images in flight over one connection pool."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        max_connections: int = 10,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(api_key, base_url, timeout=timeout, retry=retry)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=self.timeout,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )
        self._sleep = sleep

    async def detect(
        self,
        image: ImageInput,
        service: str,
        *,
        min_confidence: float | None = None,
        camera: str | None = None,
        captured_at: float | None = None,
        slices: str | None = None,
    ) -> DetectionResult:
        """Detect the service's classes in one image (bytes, path or PIL image), as `camera`
        (its id) when given, captured at `captured_at` (Unix seconds) when known. `slices`
        ("auto" or "off") asks for sliced inference or turns it off (None: as the service's
        tier or the camera says); `result.slices` then names the slices that ran."""
        # Reading and possibly re-encoding the image must not stall other requests in flight.
        body, content_type = await asyncio.to_thread(encode_image, image)
        response = await self.request(
            "POST",
            **self._detect_args(
                body, content_type, service, min_confidence, camera, captured_at, slices
            ),
        )
        return DetectionResult.from_json(_json(response), service)

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return _json(await self.request("GET", f"{self.base_url}{path}", params=params))

    async def request(
        self, method: str, url: str, *, idempotent: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """Send with retries; return a 2xx response or raise APIError / NetworkError."""
        headers = {**self._headers, **kwargs.pop("headers", {})}
        attempt = 0
        while True:
            try:
                response = await self._http.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                delay = self._retry_delay(method, url, attempt, failure=exc, idempotent=idempotent)
            else:
                if response.is_success:
                    return response
                delay = self._retry_delay(method, url, attempt, response=response)
            await self._sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
