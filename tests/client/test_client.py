"""The sync and async clients against a real local HTTP server that plays the service's part
in situations the portal only produces under load or misconfiguration: 429 with Retry-After,
503 from an overloaded worker, a proxy's HTML 502, a refused connection, a stalled answer."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from ipcai import (
    AsyncClient,
    AuthenticationError,
    BadRequest,
    Client,
    ConfigurationError,
    NetworkError,
    RateLimited,
    RetryPolicy,
    ServiceUnavailable,
)
from ipcai.retry import parse_retry_after
from PIL import Image

from harness.processes import free_port
from harness.scripted_http import Reply

KEY = "ipcai_0123456789ab_secret"


def detection_body(service: str = "pets-detection", labels: tuple[str, ...] = ("dog",)) -> dict:
    """A native-API answer shaped as the portal sends it."""
    return {
        "application_type": service,
        "width": 640,
        "height": 480,
        "model": "yolox_nano",
        "request_id": "r-1",
        "channels": 3,
        "timings_ms": {"inference": 8.0, "portal_total": 12.5},
        "detections": [
            {"label": label, "score": 0.9 - i * 0.1, "box": [10 + i, 20, 110 + i, 220]}
            for i, label in enumerate(labels)
        ],
    }


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


class RecordedSleep:
    """Stands in for time.sleep so a test sees every wait the client chose without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def pets_jpeg(images_dir: Path) -> bytes:
    return (images_dir / "pets.jpg").read_bytes()


def test_detect_sends_the_raw_image_with_key_and_returns_typed_detections(server, pets_jpeg):
    server.script(Reply(200, detection_body(labels=("dog", "dog", "cat"))))
    with Client(KEY, server.url) as client:
        result = client.detect(pets_jpeg, "pets-detection", min_confidence=0.25)

    request = server.received[0]
    assert request.method == "POST"
    assert request.path == "/api/v1/detect/pets-detection?min_confidence=0.25"
    assert request.headers["content-type"] == "image/jpeg"
    assert request.headers["x-api-key"] == KEY
    assert request.body == pets_jpeg
    assert result.counts() == {"dog": 2, "cat": 1}
    assert (result.width, result.height, result.model) == (640, 480, "yolox_nano")
    first = result.detections[0]
    assert (first.label, first.score) == ("dog", 0.9)
    assert first.box.as_list() == [10, 20, 110, 220]
    assert (first.box.width, first.box.height) == (100, 200)


def test_png_is_sent_as_png_and_other_formats_are_converted_to_jpeg(server, tmp_path):
    server.script(Reply(200, detection_body()), Reply(200, detection_body()))
    png, bmp = tmp_path / "a.png", tmp_path / "b.bmp"
    Image.new("RGB", (32, 24), "red").save(png)
    Image.new("RGB", (32, 24), "blue").save(bmp)
    with Client(KEY, server.url) as client:
        client.detect(png, "pets-detection")
        client.detect(str(bmp), "pets-detection")

    assert server.received[0].headers["content-type"] == "image/png"
    assert server.received[0].body == png.read_bytes()
    assert server.received[1].headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(server.received[1].body)).size == (32, 24)


def test_429_waits_as_long_as_retry_after_says_then_succeeds(server, pets_jpeg):
    server.script(
        Reply(429, error_body("rate_limited", "slow down"), {"Retry-After": "1"}),
        Reply(200, detection_body()),
    )
    started = time.monotonic()
    with Client(KEY, server.url) as client:
        result = client.detect(pets_jpeg, "pets-detection")

    assert result.counts() == {"dog": 1}
    assert len(server.received) == 2
    assert server.received[1].at - server.received[0].at >= 1.0
    assert time.monotonic() - started >= 1.0


def test_503_without_retry_after_backs_off_exponentially(server, pets_jpeg):
    server.script(
        Reply(503, error_body("worker_overloaded", "busy")),
        Reply(503, error_body("worker_overloaded", "busy")),
        Reply(200, detection_body()),
    )
    sleep = RecordedSleep()
    policy = RetryPolicy(max_retries=3, backoff=0.4)
    with Client(KEY, server.url, retry=policy, sleep=sleep) as client:
        client.detect(pets_jpeg, "pets-detection")

    assert len(server.received) == 3
    first, second = sleep.delays
    assert 0.2 <= first <= 0.4
    assert 0.4 <= second <= 0.8


def test_retry_after_as_http_date_is_honoured(server, pets_jpeg):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    server.script(
        Reply(503, error_body("worker_overloaded", "busy"), {"Retry-After": when}),
        Reply(200, detection_body()),
    )
    sleep = RecordedSleep()
    with Client(KEY, server.url, sleep=sleep) as client:
        client.detect(pets_jpeg, "pets-detection")

    assert len(sleep.delays) == 1
    assert 15 <= sleep.delays[0] <= 20


def test_rate_limit_still_failing_after_all_retries_raises_with_retry_after(server, pets_jpeg):
    script = [Reply(429, error_body("rate_limited", "10 requests/s"), {"Retry-After": "2"})] * 3
    server.script(*script)
    sleep = RecordedSleep()
    with (
        Client(KEY, server.url, retry=RetryPolicy(max_retries=2), sleep=sleep) as client,
        pytest.raises(RateLimited) as raised,
    ):
        client.detect(pets_jpeg, "pets-detection")

    assert len(server.received) == 3
    assert sleep.delays == [2.0, 2.0]
    assert raised.value.retry_after == 2.0
    assert raised.value.code == "rate_limited"
    assert raised.value.message == "10 requests/s"


def test_quota_exhausted_for_days_is_not_waited_for(server, pets_jpeg):
    quota = error_body("quota_exceeded", "monthly quota used up")
    server.script(Reply(429, quota, {"Retry-After": "86400"}))
    sleep = RecordedSleep()
    with Client(KEY, server.url, sleep=sleep) as client, pytest.raises(RateLimited) as raised:
        client.detect(pets_jpeg, "pets-detection")

    assert len(server.received) == 1
    assert sleep.delays == []
    assert raised.value.retry_after == 86400


@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [(400, "not_an_image", BadRequest), (401, "invalid_api_key", AuthenticationError)],
)
def test_client_errors_are_raised_at_once_with_the_service_message(
    server, pets_jpeg, status, code, error_class
):
    server.script(Reply(status, error_body(code, "explained")))
    sleep = RecordedSleep()
    with Client(KEY, server.url, sleep=sleep) as client, pytest.raises(error_class) as raised:
        client.detect(pets_jpeg, "pets-detection")

    assert len(server.received) == 1
    assert sleep.delays == []
    assert (raised.value.status, raised.value.code, raised.value.message) == (
        status,
        code,
        "explained",
    )


def test_a_proxy_html_502_is_retried_and_reported_readably(server, pets_jpeg):
    page = "<html><body>502 Bad Gateway</body></html>"
    server.script(Reply(502, page), Reply(502, page))
    sleep = RecordedSleep()
    with (
        Client(KEY, server.url, retry=RetryPolicy(max_retries=1), sleep=sleep) as client,
        pytest.raises(ServiceUnavailable) as raised,
    ):
        client.detect(pets_jpeg, "pets-detection")

    assert len(server.received) == 2
    assert raised.value.code == "http_error"
    assert "502 Bad Gateway" in raised.value.message


def test_refused_connection_is_retried_then_raises_network_error(pets_jpeg):
    sleep = RecordedSleep()
    url = f"http://127.0.0.1:{free_port()}"
    with (
        Client(KEY, url, retry=RetryPolicy(max_retries=2), sleep=sleep) as client,
        pytest.raises(NetworkError),
    ):
        client.detect(pets_jpeg, "pets-detection")

    assert len(sleep.delays) == 2


def test_a_stalled_answer_times_out_without_sending_the_work_again(server, pets_jpeg):
    release = threading.Event()
    server.script(Reply(200, detection_body(), hold=release))
    try:
        with Client(KEY, server.url, timeout=0.5) as client, pytest.raises(NetworkError):
            client.detect(pets_jpeg, "pets-detection")
    finally:
        release.set()
    assert len(server.received) == 1


def test_async_client_retries_like_the_sync_one(server, pets_jpeg):
    server.script(
        Reply(503, error_body("worker_overloaded", "busy"), {"Retry-After": "0"}),
        Reply(200, detection_body(labels=("dog", "dog"))),
    )

    async def run():
        async with AsyncClient(KEY, server.url) as client:
            return await client.detect(pets_jpeg, "pets-detection")

    result = asyncio.run(run())
    assert result.counts() == {"dog": 2}
    assert len(server.received) == 2


def test_async_client_runs_requests_concurrently(server, pets_jpeg):
    # The first answer is held until the second request has arrived: only possible when both
    # are in flight at once.
    release = threading.Event()
    server.script(Reply(200, detection_body(), hold=release), Reply(200, detection_body()))

    async def run():
        async with AsyncClient(KEY, server.url, max_connections=2) as client:
            first = asyncio.create_task(client.detect(pets_jpeg, "pets-detection"))
            second = asyncio.create_task(client.detect(pets_jpeg, "pets-detection"))
            deadline = time.monotonic() + 10
            while len(server.received) < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            seen = len(server.received)
            release.set()
            return await asyncio.gather(first, second), seen

    results, seen = asyncio.run(run())
    assert seen == 2
    assert [r.counts() for r in results] == [{"dog": 1}, {"dog": 1}]


def test_key_and_url_come_from_the_environment(server, pets_jpeg, monkeypatch):
    monkeypatch.setenv("IPCAI_API_KEY", KEY)
    monkeypatch.setenv("IPCAI_URL", server.url + "/")
    server.script(Reply(200, detection_body()))
    with Client() as client:
        client.detect(pets_jpeg, "pets-detection")
    assert server.received[0].headers["x-api-key"] == KEY
    assert KEY not in repr(client)


def test_a_base_url_with_a_path_prefix_is_kept(server, pets_jpeg):
    server.script(Reply(200, detection_body()))
    with Client(KEY, server.url + "/ipc") as client:
        client.detect(pets_jpeg, "pets-detection")
    assert server.received[0].path == "/ipc/api/v1/detect/pets-detection"


def test_missing_key_and_bad_service_name_are_configuration_errors(monkeypatch, pets_jpeg):
    monkeypatch.delenv("IPCAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="IPCAI_API_KEY"):
        Client(base_url="http://127.0.0.1:1")
    with pytest.raises(ConfigurationError, match="http"):
        Client(KEY, "ftp://example.com")
    with Client(KEY, "http://127.0.0.1:1") as client, pytest.raises(ConfigurationError):
        client.detect(pets_jpeg, "../admin")


def test_parse_retry_after_accepts_seconds_and_dates_and_ignores_garbage():
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("Wed, 01 Jan 2025 00:00:30 GMT", now) == 30.0
    assert parse_retry_after("Tue, 31 Dec 2024 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
