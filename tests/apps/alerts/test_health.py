"""Camera health with the real database and Redis, on frames of the shared clip: the image
checks (covered, blurred, moved) against the camera's own baseline, their hold time, the
recovery, offline by the sweep and online on the next frame, each change one camera.health
delivery (the live test sends them to a real receiver)."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from apps.alerts import health
from apps.alerts.counters import CameraEventsCollector
from apps.alerts.frames import CameraFrame, track_camera_frame
from apps.alerts.health_checks import Baseline, analyse, learn, problem
from apps.alerts.models import WebhookDelivery
from apps.alerts.webhooks.endpoints import EndpointFilters, create_endpoint
from apps.cameras.models import Camera
from apps.cameras.services import create_camera, update_camera
from harness.camera_clip import sampled

CLIP_WIDTH = 768


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()


def decoded(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def darkened(data: bytes) -> bytes:
    return jpeg((decoded(data) * 0.04).astype(np.uint8))


def blurred(data: bytes) -> bytes:
    return jpeg(cv2.GaussianBlur(decoded(data), (0, 0), 6))


def shifted(data: bytes) -> bytes:
    """The view moved by a quarter of the frame to the side."""
    image = decoded(data)
    height, width = image.shape[:2]
    move = np.float32([[1, 0, width / 4], [0, 1, 0]])
    return jpeg(cv2.warpAffine(image, move, (width, height), borderMode=cv2.BORDER_REPLICATE))


@pytest.fixture(scope="module")
def clip_2fps() -> list[tuple[float, bytes]]:
    return sampled(2)


@pytest.fixture(autouse=True)
def _health_settings(settings):
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = True
    settings.IPCAI_HEALTH_CHECKS = True
    settings.IPCAI_HEALTH_SAMPLE_S = 2.0
    settings.IPCAI_HEALTH_HOLD_S = 10.0
    health._sampled_at.clear()
    health._noted_at.clear()


@pytest.fixture
def camera(tenant_a):
    camera = create_camera(tenant_a, {"name": "hall"})
    create_endpoint(tenant_a, "http://127.0.0.1:9/health")
    return camera


def send(camera, frames, t0: float, alter=None) -> None:
    for offset, data in frames:
        image = alter(data) if alter else data
        frame = CameraFrame(camera.tenant_id, camera.pk, t0 + offset, [], image, CLIP_WIDTH, 432)
        track_camera_frame(frame)


def filters(**given: list[str]) -> EndpointFilters:
    return EndpointFilters(**{"cameras": [], "labels": [], "zones": [], "event_types": [], **given})


def health_changes() -> list[tuple[str, str]]:
    rows = WebhookDelivery.objects.filter(event_type="camera.health").order_by("created_at")
    return [(r.payload["data"]["state"], r.payload["data"]["reason"]) for r in rows]


@pytest.mark.parametrize(
    ("alter", "reason"), [(darkened, "covered"), (blurred, "blurred"), (shifted, "moved")]
)
def test_each_check_names_its_problem_against_the_cameras_baseline(clip_2fps, alter, reason):
    baseline = Baseline()
    for _, data in clip_2fps[:20:4]:  # the first 10 s: the camera's usual picture
        sample = analyse(data, CLIP_WIDTH)
        assert sample is not None and problem(sample, baseline) == ""
        baseline = learn(sample, baseline)
    for _, data in clip_2fps[20::10]:  # people come and go: still healthy
        assert problem(analyse(data, CLIP_WIDTH), baseline) == ""
        assert problem(analyse(alter(data), CLIP_WIDTH), baseline) == reason


def test_the_darkened_clip_is_covered_within_30_s_of_capture_time_and_recovers(
    camera, clip_2fps, db
):
    t0 = time.time() - 3600
    send(camera, clip_2fps[:40], t0)  # 20 s clear
    assert health_changes() == []
    dark_from = clip_2fps[40][0]
    send(camera, clip_2fps[40:100], t0, alter=darkened)  # 30 s darkened
    assert health_changes() == [("tampered", "covered")]
    camera.refresh_from_db()
    assert (camera.health_state, camera.health_reason) == ("tampered", "covered")
    assert camera.health_since.timestamp() - t0 == pytest.approx(dark_from, abs=2.1)
    raised = WebhookDelivery.objects.get(event_type="camera.health")
    assert raised.payload["type"] == "camera.health" and raised.event is None
    assert raised.payload["data"]["camera"] == camera.public_id
    send(camera, clip_2fps[100:140], t0)  # clear again, 20 s
    assert health_changes() == [("tampered", "covered"), ("recovered", "")]
    camera.refresh_from_db()
    assert camera.health_state == "online"


def test_one_bad_frame_raises_nothing(camera, clip_2fps, db):
    t0 = time.time() - 3600
    send(camera, clip_2fps[:30], t0)
    send(camera, clip_2fps[30:33], t0, alter=darkened)  # 1.5 s: shorter than the hold
    send(camera, clip_2fps[33:80], t0)
    assert health_changes() == []


def test_the_clear_clip_played_whole_raises_nothing(camera, clip_2fps, db):
    send(camera, clip_2fps, time.time() - 3600)
    assert health_changes() == []
    assert Camera.objects.get(pk=camera.pk).health_state != "tampered"


def test_a_silent_camera_goes_offline_after_its_own_time_and_online_on_its_next_frame(
    camera, clip_2fps, db
):
    update_camera(camera, {"offline_after_s": 5})
    send(camera, clip_2fps[:2], time.time())
    now = time.time()
    assert health.sweep(now) == 0  # its first frames: online, quietly
    assert Camera.objects.get(pk=camera.pk).health_state == "online"
    assert health.sweep(now + 4) == 0
    assert health.sweep(now + 6) == 1
    assert health.sweep(now + 7) == 0  # once
    assert Camera.objects.get(pk=camera.pk).health_state == "offline"
    health._noted_at.clear()  # its next frame, after the note interval
    send(camera, clip_2fps[2:3], time.time())
    assert health_changes() == [("offline", ""), ("online", "")]
    assert Camera.objects.get(pk=camera.pk).health_state == "online"
    families = {f.name: f for f in CameraEventsCollector().collect()}
    samples = {s.labels["change"]: s.value for s in families["ipcai_camera_health_changes"].samples}
    assert samples["offline"] >= 1 and samples["online"] >= 1  # the /metrics counter


def test_a_camera_silent_for_more_than_a_day_is_not_reported(camera, clip_2fps, db):
    update_camera(camera, {"offline_after_s": 5})
    send(camera, clip_2fps[:1], time.time())
    assert health.sweep(time.time() + 2 * 86400) == 0
    assert health_changes() == []


def test_an_endpoint_for_other_event_types_or_cameras_gets_no_health(tenant_a, clip_2fps, db):
    camera = create_camera(tenant_a, {"name": "porch"})
    other = create_camera(tenant_a, {"name": "yard"})
    create_endpoint(
        tenant_a, "http://127.0.0.1:9/ended", filters=filters(event_types=["event.ended"])
    )
    create_endpoint(tenant_a, "http://127.0.0.1:9/yard", filters=filters(cameras=[other.public_id]))
    wanted, _ = create_endpoint(
        tenant_a,
        "http://127.0.0.1:9/health",
        filters=filters(event_types=["camera.health"], labels=["car"]),
    )
    update_camera(camera, {"offline_after_s": 5})
    send(camera, clip_2fps[:1], time.time())
    health.sweep(time.time() + 10)
    assert [d.endpoint_id for d in WebhookDelivery.objects.all()] == [wanted.pk]


def test_the_checks_run_in_a_thread_off_the_request_path(settings, clip_2fps):
    settings.IPCAI_HEALTH_THREAD = True
    baseline_before = health._load(123_456)
    for offset, data in clip_2fps[:6]:
        health.on_frame(123_456, 1000 + offset, data, CLIP_WIDTH)
    assert health.wait_idle(10)
    state = health._load(123_456)
    assert baseline_before == {} and state["baseline"]["samples"] == 2  # at 0 s and 2 s
    assert health._checker_instance is not None and health._checker_instance.skipped == 0
    health.forget(123_456)


def test_health_checks_off_record_nothing(settings, camera, clip_2fps, db):
    settings.IPCAI_HEALTH_CHECKS = False
    send(camera, clip_2fps[:40], time.time() - 3600, alter=darkened)
    assert health.sweep(time.time() + 3600) == 0
    assert Camera.objects.get(pk=camera.pk).health_state == ""
