"""`ipcai relay`: a DeepStack / CodeProject.AI-compatible server on the LAN that adds the key.

Blue Iris and Agent DVR are configured with an AI server's IP and port only and never send an
API key. The relay listens where they expect a local AI server, forwards each vision call
unchanged (same body, same multipart boundary) to the service with the key in the `x-api-key`
header, and passes the service's answer back. The key comes from the environment or a config
file, never from the command line, where every user of the machine could read it.

Kept deliberately small: one shared HTTP client (keep-alive connections reused, at most
`concurrency` of them), a bounded wait line, local answers to the probes the camera software
polls, one log line per call, and DeepStack-shaped errors when the service cannot be reached,
so the camera software shows a readable reason instead of "AI not responding".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import time
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ipcai import __version__
from ipcai.client import ENV_API_KEY, ENV_URL, resolve_base_url
from ipcai.errors import ConfigurationError

ENV_CONFIG = "IPCAI_CONFIG"
DEFAULT_LISTEN = "127.0.0.1:5000"  # DeepStack's port; 0.0.0.0 only when the user asks for it
# Blue Iris sends one JPEG frame; 16 MiB is far above any camera's main stream and still keeps
# a misbehaving client from filling the relay's memory.
MAX_BODY_BYTES = 16 * 1024 * 1024
VISION_PATHS = (
    "/v1/vision/detection",
    "/v1/vision/custom/list",
    "/v1/vision/custom/{model}",
    # CodeProject.AI's ALPR module: Blue Iris's licence plate calls (the service's license-plates)
    "/v1/image/alpr",
    "/v1/vision/alpr",
)

logger = logging.getLogger("ipcai.relay")


def default_config_path() -> Path:
    """$IPCAI_CONFIG, else ~/.config/ipcai/config.toml (%APPDATA%\\ipcai on Windows)."""
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG]).expanduser()
    base = os.environ.get("APPDATA") if os.name == "nt" else None
    return Path(base or Path.home() / ".config") / "ipcai" / "config.toml"


@dataclass(frozen=True)
class RelaySettings:
    """Where to forward, with which key; limits of the relay itself."""

    base_url: str
    api_key: str
    camera: str | None = None
    timeout: float = 30.0
    concurrency: int = 4
    max_waiting: int = 32
    max_body_bytes: int = MAX_BODY_BYTES

    def __repr__(self) -> str:  # never print the key
        return f"RelaySettings(base_url={self.base_url!r}, camera={self.camera!r})"


def read_config(path: Path) -> dict[str, Any]:
    """The config file's settings (`api_key`, `url`, `camera`), {} when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    if os.name != "nt" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning(
            "%s is readable by other users: `chmod 600 %s` keeps the key yours", path, path
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
    return data.get("relay", data) if isinstance(data.get("relay"), dict) else data


def load_settings(
    *,
    url: str | None = None,
    camera: str | None = None,
    config_path: Path | None = None,
    **limits: Any,
) -> RelaySettings:
    """Settings from arguments, then the environment, then the config file."""
    path = config_path or default_config_path()
    config = read_config(path)
    key = (os.environ.get(ENV_API_KEY) or str(config.get("api_key") or "")).strip()
    if not key:
        raise ConfigurationError(
            f'no API key: set {ENV_API_KEY} or put api_key = "..." in {path} '
            "(the relay never takes a key on the command line)"
        )
    base_url = resolve_base_url(url or os.environ.get(ENV_URL) or config.get("url"))
    return RelaySettings(
        base_url=base_url,
        api_key=key,
        camera=camera or config.get("camera") or None,
        **limits,
    )


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (or `:PORT`, or `PORT`, both on 127.0.0.1) → (host, port). The relay
    holds the API key and asks for none: it listens on the network only when told a host."""
    host, _, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise ConfigurationError(f"--listen takes HOST:PORT, got {text!r}") from None
    if not 0 < number < 65536:
        raise ConfigurationError(f"port out of range in --listen {text!r}")
    return host.strip("[]") or "127.0.0.1", number


def deepstack_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """DeepStack's error body plus CodeProject.AI's numeric `code`, with the HTTP status."""
    body = {"success": False, "error": message, "code": status}
    return JSONResponse(body, status_code=status, headers=headers)


def version_info() -> dict[str, Any]:
    """CodeProject.AI's VersionInfo (camelCase), for the relay's own version."""
    numbers = [int(part) if part.isdigit() else 0 for part in __version__.split(".")[:3]]
    major, minor, patch = [*numbers, 0, 0, 0][:3]
    return {
        "major": major,
        "minor": minor,
        "patch": patch,
        "preRelease": None,
        "securityUpdate": False,
        "build": 0,
        "file": "",
        "releaseNotes": "",
    }


class Relay:
    """The forwarding logic; `app()` wraps it in a Starlette application."""

    def __init__(self, settings: RelaySettings, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._waiting = 0

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        # One client for the relay's lifetime: its pool keeps the TLS connection to the
        # service open between frames instead of a handshake per call.
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.timeout, connect=min(self.settings.timeout, 5.0)),
            limits=httpx.Limits(
                max_connections=self.settings.concurrency,
                max_keepalive_connections=self.settings.concurrency,
            ),
            transport=self._transport or httpx.AsyncHTTPTransport(retries=1),
        )
        logger.info(
            "relaying vision calls to %s%s",
            self.settings.base_url,
            f" as camera {self.settings.camera}" if self.settings.camera else "",
        )
        try:
            yield
        finally:
            await self._http.aclose()

    def app(self) -> Starlette:
        routes = [Route(path, self.forward, methods=["POST"]) for path in VISION_PATHS]
        routes += [
            Route(path, self.update_available, methods=["GET"])
            for path in ("/v1/status/updateavailable", "/v1/server/status/updateavailable")
        ]
        routes += [
            Route(path, self.ping, methods=["GET"])
            for path in ("/v1/status/ping", "/v1/server/status/ping")
        ]
        routes.append(Route("/", self.alive, methods=["GET", "HEAD"]))
        return Starlette(
            routes=routes,
            lifespan=self.lifespan,
            exception_handlers={404: self.not_found, 405: self.not_allowed},
        )

    # -- local answers -------------------------------------------------------------------

    async def alive(self, request: Request) -> Response:
        return PlainTextResponse(f"ipcai relay {__version__} is running")

    async def ping(self, request: Request) -> Response:
        return JSONResponse({"success": True, "message": __version__, "version": version_info()})

    async def update_available(self, request: Request) -> Response:
        """Blue Iris polls this; a failure there marks the AI as unavailable. The relay is
        updated with the `ipcai` package, so the answer is always "current"."""
        current = version_info()
        return JSONResponse(
            {
                "success": True,
                "message": "This is the current version",
                "version": current,
                "current": current,
                "latest": current,
                "updateAvailable": False,
            }
        )

    async def not_found(self, request: Request, exc: Exception) -> Response:
        self._log(request, 404, time.perf_counter(), "not a vision route")
        return deepstack_error(404, f"{request.url.path} is not served by the ipcai relay")

    async def not_allowed(self, request: Request, exc: Exception) -> Response:
        return deepstack_error(405, f"{request.method} is not allowed on {request.url.path}")

    # -- forwarding ----------------------------------------------------------------------

    async def forward(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            length = int(request.headers.get("content-length") or 0)
        except ValueError:
            length = 0
        if length > self.settings.max_body_bytes:
            return self._fail(request, started, 413, "The request body is too large.")
        body = await self._read_body(request)
        if body is None:
            return self._fail(request, started, 413, "The request body is too large.")
        if self._slots.locked() and self._waiting >= self.settings.max_waiting:
            return self._fail(
                request, started, 503, "The relay is busy; retry shortly.", {"Retry-After": "1"}
            )
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            upstream = await self._send(request, body)
        except httpx.TimeoutException:
            return self._fail(
                request,
                started,
                504,
                f"The IPC AI service at {self.settings.base_url} did not answer within "
                f"{self.settings.timeout:g} s.",
            )
        except httpx.TransportError as exc:
            return self._fail(
                request,
                started,
                503,
                f"The IPC AI service at {self.settings.base_url} is unreachable "
                f"({type(exc).__name__}); the relay tries again on every call.",
                {"Retry-After": "5"},
            )
        finally:
            self._slots.release()
        return self._pass_back(request, started, upstream)

    async def _read_body(self, request: Request) -> bytes | None:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _send(self, request: Request, body: bytes) -> httpx.Response:
        assert self._http is not None, "the relay's lifespan has not started"
        headers = {
            "x-api-key": self.settings.api_key,
            "Accept": "application/json",
            "User-Agent": f"ipcai-relay/{__version__}",
        }
        if request.headers.get("content-type"):
            headers["Content-Type"] = request.headers["content-type"]
        if self.settings.camera:
            headers["X-Camera-Id"] = self.settings.camera
        url = f"{self.settings.base_url}{request.url.path}"
        params = dict(request.query_params)
        try:
            return await self._http.post(url, content=body, headers=headers, params=params)
        except httpx.RemoteProtocolError:
            # A kept-alive connection the service closed while idle (a restart, a load
            # balancer's idle timeout): the request never reached it, so one resend is safe.
            return await self._http.post(url, content=body, headers=headers, params=params)

    def _pass_back(self, request: Request, started: float, upstream: httpx.Response) -> Response:
        try:
            body = upstream.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):  # a proxy or load balancer answered, not the service
            return self._fail(
                request,
                started,
                upstream.status_code if upstream.status_code >= 400 else 502,
                f"The IPC AI service answered HTTP {upstream.status_code} without JSON.",
            )
        headers = {
            name: upstream.headers[name]
            for name in ("Retry-After", "X-Request-Id")
            if name in upstream.headers
        }
        detail = (
            f"{len(body.get('predictions') or [])} predictions"
            if body.get("success")
            else str(body.get("error", ""))[:120]
        )
        self._log(request, upstream.status_code, started, detail)
        return Response(
            upstream.content,
            status_code=upstream.status_code,
            media_type="application/json",
            headers=headers,
        )

    def _fail(
        self,
        request: Request,
        started: float,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> Response:
        self._log(request, status, started, message)
        return deepstack_error(status, message, headers)

    @staticmethod
    def _log(request: Request, status: int, started: float, detail: str) -> None:
        client = request.client.host if request.client else "-"
        elapsed = (time.perf_counter() - started) * 1000
        logger.info(
            "%s %s %s -> %d in %.0f ms: %s",
            client,
            request.method,
            request.url.path,
            status,
            elapsed,
            detail,
        )


def run_relay(settings: RelaySettings, listen: str = DEFAULT_LISTEN) -> None:
    """Serve until SIGINT / SIGTERM (uvicorn handles both and finishes calls in flight)."""
    import uvicorn

    host, port = parse_listen(listen)
    logger.info("ipcai relay %s listening on http://%s:%d", __version__, host, port)
    config = uvicorn.Config(
        Relay(settings).app(),
        host=host,
        port=port,
        access_log=False,  # the relay logs one line per call itself
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()
