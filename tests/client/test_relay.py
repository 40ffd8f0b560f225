"""`ipcai relay` as Blue Iris and Agent DVR use it: they know an IP and a port, never a key.

The relay runs as its own process (the installed `ipcai` command); the camera software's
requests are replayed with `requests` exactly as they arrive (multipart `min_confidence` then
`image` named image.jpg, no key, no extra headers), against a real portal and worker, or a
scripted HTTP server where the test needs the service to stall or misbehave.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from harness.images import region_jpeg, seed_image
from harness.polling import eventually
from harness.portal import running_portal
from harness.processes import ServerProcess, free_port, http_ok
from harness.scripted_http import Reply, scripted_server
from tests.client.running_cli import cli_env, ipcai_argv, run_cli


@contextmanager
def running_relay(
    log_dir: Path, service_url: str, key: str | None, *args: str, env: dict | None = None
) -> Iterator[tuple[str, ServerProcess]]:
    """Yield (relay base URL, process) once the relay answers on its port."""
    port = free_port()
    relay_env = cli_env(service_url, key or "")
    if key is None:
        relay_env.pop("IPCAI_API_KEY")
    relay_env.update(env or {})
    process = ServerProcess(
        argv=ipcai_argv("relay", "--listen", f"127.0.0.1:{port}", *args),
        env=relay_env,
        log_path=log_dir / f"relay-{port}.log",
    )
    process.start()
    base = f"http://127.0.0.1:{port}"
    try:
        process.wait_until(lambda: http_ok(base), timeout=30)
        yield base, process
    finally:
        process.stop()


def blue_iris_detect(url: str, image: bytes, min_confidence: str = "0.4") -> requests.Response:
    """Blue Iris's call: multipart `min_confidence`, then the frame as `image` (image.jpg),
    no key, no camera header (as replayed by Blue Onyx's test client)."""
    return requests.post(
        url,
        data={"min_confidence": min_confidence},
        files={"image": ("image.jpg", image, "image/jpeg")},
        timeout=60,
    )


@pytest.fixture(scope="module")
def relay(tmp_path_factory, live_portal, api_key) -> Iterator[tuple[str, ServerProcess]]:
    with running_relay(tmp_path_factory.mktemp("relay"), live_portal.base_url, api_key) as r:
        yield r


# The relay asks the service for the model list once at start, to check its key.
KEY_CHECK = Reply(200, {"success": True, "models": []})


def forwarded(service) -> list:
    """The calls the relay forwarded (its own key check left out)."""
    return [r for r in service.received if not r.path.endswith("/v1/vision/custom/list")]


def relay_log_lines(process: ServerProcess, marker: str) -> list[str]:
    return [line for line in process.log().splitlines() if marker in line]


def test_blue_iris_detection_through_the_relay_without_a_key(relay, api_key):
    base, process = relay
    response = blue_iris_detect(f"{base}/v1/vision/detection", seed_image("persons"))
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert [p["label"] for p in body["predictions"]].count("person") == 5
    assert all(p["confidence"] >= 0.4 for p in body["predictions"])
    # What Blue Iris shows and Agent DVR checks, typed as CodeProject.AI sends them.
    assert body["count"] == len(body["predictions"])
    assert body["message"].startswith("Found person")
    assert all(type(body[f]) is int for f in ("inferenceMs", "processMs", "analysisRoundTripMs"))
    assert body["moduleId"] and body["command"] == "detect" and body["code"] == 200
    # One line per call, and never the key.
    process.wait_until(lambda: relay_log_lines(process, "POST /v1/vision/detection -> 200"))
    assert api_key not in process.log()


def test_blue_iris_default_object_detection_calls_a_custom_model(relay):
    base, _ = relay
    response = blue_iris_detect(f"{base}/v1/vision/custom/ipcam-general", seed_image("vehicles"))
    assert response.status_code == 200
    body = response.json()
    assert body["command"] == "custom"
    assert {"bus", "car"} <= {p["label"] for p in body["predictions"]}
    assert not {"cat", "dog"} & {p["label"] for p in body["predictions"]}


def test_blue_iris_lists_the_models_through_the_relay(relay):
    base, _ = relay
    response = requests.post(f"{base}/v1/vision/custom/list", timeout=30)
    assert response.status_code == 200
    assert response.json()["models"] == [
        "ipcam-general",
        "ipcam-combined",
        "ipcam-animal",
        "ipcam-dark",
    ]


def test_frigate_pointed_at_the_relay_with_an_empty_api_key(relay):
    """INTEGRATIONS.md's Frigate-through-relay setup: Frigate's own call, `api_key` left
    empty in its config; the relay's key is the one that counts."""
    base, _ = relay
    response = requests.post(
        f"{base}/v1/vision/detection",
        data={"api_key": ""},
        files={"image": region_jpeg("pets", 320)},
        timeout=30,
    )
    assert response.status_code == 200
    assert {p["label"] for p in response.json()["predictions"]} == {"dog"}


def test_the_update_probe_is_answered_by_the_relay_itself(relay):
    base, _ = relay
    body = requests.get(f"{base}/v1/status/updateavailable", timeout=10).json()
    assert body["success"] is True and body["updateAvailable"] is False
    assert {"major", "minor", "patch"} <= set(body["current"])
    assert body["current"] == body["latest"]


def test_unknown_routes_get_a_deepstack_error(relay):
    base, _ = relay
    response = requests.post(f"{base}/v1/vision/face", timeout=10)
    assert response.status_code == 404
    assert response.json()["success"] is False


def test_the_relay_forwards_the_body_unchanged_with_the_key_and_camera(tmp_path):
    """What reaches the service: the camera's exact multipart body and boundary, plus the
    key header and the configured camera, nothing of the relay's own making in the body."""
    reply = Reply(200, {"success": True, "predictions": []})
    key = "ipcai_000000000000_k"
    with (
        scripted_server(KEY_CHECK, reply) as service,
        running_relay(tmp_path, service.url, key, "--camera", "cam-7") as (base, _),
    ):
        sent = requests.Request(
            "POST",
            f"{base}/v1/vision/custom/ipcam-general?x=1",
            data={"min_confidence": "0.5"},
            files={"image": ("image.jpg", b"\xff\xd8frame", "image/jpeg")},
        ).prepare()
        with requests.Session() as session:
            assert session.send(sent, timeout=30).json() == {"success": True, "predictions": []}
    (received,) = forwarded(service)
    assert received.path == "/v1/vision/custom/ipcam-general?x=1"
    assert received.body == sent.body
    assert received.headers["content-type"] == sent.headers["Content-Type"]
    assert received.headers["x-api-key"] == "ipcai_000000000000_k"
    assert received.headers["x-camera-id"] == "cam-7"


def test_the_services_refusals_pass_through_and_a_proxys_html_becomes_deepstack_json(tmp_path):
    over_quota = Reply(
        429,
        {"success": False, "error": "Monthly quota used up.", "code": 429},
        headers={"Retry-After": "7"},
    )
    proxy_page = Reply(502, "<html><body>Bad Gateway</body></html>")
    with (
        scripted_server(KEY_CHECK, over_quota, proxy_page) as service,
        running_relay(tmp_path, service.url, "ipcai_000000000000_k") as (base, _),
    ):
        limited = blue_iris_detect(f"{base}/v1/vision/detection", b"\xff\xd8a")
        proxied = blue_iris_detect(f"{base}/v1/vision/detection", b"\xff\xd8b")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json()["error"] == "Monthly quota used up."
    assert proxied.status_code == 502
    assert proxied.json() == {
        "success": False,
        "error": "The IPC AI service answered HTTP 502 without JSON.",
        "code": 502,
    }


def test_bounded_concurrency_answers_busy_instead_of_queueing_forever(tmp_path):
    release = threading.Event()
    held = Reply(200, {"success": True, "predictions": []}, hold=release)
    with scripted_server(
        KEY_CHECK, held, Reply(200, {"success": True, "predictions": []})
    ) as service:
        args = ("--concurrency", "1", "--max-waiting", "0")
        with running_relay(tmp_path, service.url, "ipcai_000000000000_k", *args) as (base, _):
            first: dict = {}
            thread = threading.Thread(
                target=lambda: first.update(
                    response=blue_iris_detect(f"{base}/v1/vision/detection", b"\xff\xd8a")
                )
            )
            thread.start()
            eventually(lambda: len(forwarded(service)) == 1, 30, "the first call at the service")
            busy = blue_iris_detect(f"{base}/v1/vision/detection", b"\xff\xd8b")
            release.set()
            thread.join(timeout=30)
            after = blue_iris_detect(f"{base}/v1/vision/detection", b"\xff\xd8c")
    assert busy.status_code == 503
    assert busy.json()["success"] is False and "busy" in busy.json()["error"]
    assert busy.headers["Retry-After"] == "1"
    assert first["response"].status_code == 200
    assert after.status_code == 200
    assert len(forwarded(service)) == 2  # the refused call never reached the service


def test_the_relay_survives_the_service_going_down_and_coming_back(
    tmp_path, live_worker_url, images_dir
):
    with running_portal(tmp_path / "portal", live_worker_url) as portal:
        key = portal.create_tenant("relay-outage", services=["persons-detection"])
        with running_relay(tmp_path, portal.base_url, key) as (base, relay_process):
            url = f"{base}/v1/vision/detection"
            frame = seed_image("persons")
            assert blue_iris_detect(url, frame).status_code == 200

            portal.server.stop()
            down = blue_iris_detect(url, frame)
            assert down.status_code == 503
            assert down.json()["success"] is False
            assert "unreachable" in down.json()["error"]
            # The probes do not depend on the service: Blue Iris keeps the AI "up".
            assert requests.get(f"{base}/v1/status/updateavailable", timeout=10).ok

            portal.server.start()
            portal.server.wait_until(lambda: http_ok(f"{portal.base_url}/healthz"), timeout=60)
            back = blue_iris_detect(url, frame)
            assert back.status_code == 200
            assert [p["label"] for p in back.json()["predictions"]].count("person") == 5
            assert relay_process.process.poll() is None  # the same relay process throughout


def test_the_key_can_come_from_a_config_file(tmp_path, live_portal, api_key):
    config = tmp_path / "relay.toml"
    config.write_text(f'api_key = "{api_key}"\nurl = "{live_portal.base_url}"\n')
    config.chmod(0o600)
    with running_relay(tmp_path, live_portal.base_url, None, "--config", str(config)) as (base, _):
        response = blue_iris_detect(f"{base}/v1/vision/detection", seed_image("pets"))
    assert response.status_code == 200
    assert [p["label"] for p in response.json()["predictions"]] == ["dog"] * 3


def test_no_key_on_the_command_line_and_a_clear_error_without_one(tmp_path, live_portal):
    refused = run_cli(["relay", "--api-key", "ipcai_000000000000_x"], live_portal.base_url, "")
    assert refused.returncode == 2
    assert "visible to every user" in refused.stderr
    env = {**cli_env(live_portal.base_url, ""), "IPCAI_CONFIG": str(tmp_path / "none.toml")}
    missing = subprocess.run(
        ipcai_argv("relay"), env=env, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2
    assert "no API key" in missing.stderr and "IPCAI_API_KEY" in missing.stderr


def test_the_relay_refuses_to_start_with_a_key_the_service_refuses(live_portal):
    """A wrong key would fail every camera call with "Incorrect api key": it fails at start."""
    run = run_cli(
        ["relay", "--listen", f"127.0.0.1:{free_port()}"],
        live_portal.base_url,
        "ipcai_000000000000_wrong",
    )
    assert run.returncode == 2
    assert "refuses the relay's API key (HTTP 401)" in run.stderr
    assert "did not start" in run.stderr


def test_the_relay_starts_when_the_service_cannot_be_asked(tmp_path):
    """An unreachable service at start is a warning: the relay answers 503 until it is back."""
    down = f"http://127.0.0.1:{free_port()}"
    with running_relay(tmp_path, down, "ipcai_000000000000_k") as (base, process):
        assert requests.get(f"{base}/v1/status/updateavailable", timeout=10).ok
    assert "could not check the API key" in process.log()
