"""Redis memory per open event is bounded (security review, issue 31, Medium 6): open events
per camera are capped, and the events of one frame share one stashed copy of it, downscaled.
Before, each open event kept its own copy of the full frame (up to 10 MB) for a day, and a
frame with a hundred detections opened a hundred events."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from apps.alerts import alerting, snapshots
from apps.alerts.frames import CameraFrame, track_camera_frame
from apps.alerts.models import CameraEvent
from apps.alerts.tracking import TrackerSettings
from apps.cameras.services import create_camera
from apps.core.redis import get_redis, redis_key
from harness.images import seed_image

CROWD = 100


@pytest.fixture(autouse=True)
def _fresh_settings():
    alerting._settings_cache.clear()


@pytest.fixture
def camera(tenant_a):
    return create_camera(tenant_a, {"name": "plaza"})


def big_frame(width: int = 4000, height: int = 3000) -> bytes:
    """A photo-sized JPEG (the seed image scaled up): megabytes, like a 12 MP camera's."""
    with Image.open(io.BytesIO(seed_image("persons"))) as seed:
        out = io.BytesIO()
        seed.convert("RGB").resize((width, height)).save(out, "JPEG", quality=95)
    return out.getvalue()


def crowd(n: int = CROWD) -> list[dict]:
    """n people side by side, each box far from the others (one track each)."""
    return [
        {"label": "person", "score": 0.9, "box": [i * 40.0, 100.0, i * 40.0 + 30, 300.0]}
        for i in range(n)
    ]


def stash_bytes() -> int:
    """Bytes Redis holds for event snapshots (every key of the stash, by MEMORY USAGE)."""
    r = get_redis()
    keys = [k for p in ("camsnap", "camframe") for k in r.scan_iter(redis_key(p, "*"))]
    return sum(r.memory_usage(k) or 0 for k in keys)


def test_a_crowded_frame_opens_at_most_the_cap_of_events(camera, archive):
    image = big_frame()
    opened = []
    for i in range(3):  # three frames confirm every track (3 of 5)
        answer = track_camera_frame(
            CameraFrame(camera.tenant_id, camera.pk, 1000 + i * 0.2, crowd(), image, 4000, 3000)
        )
        opened += [e for e in answer if e["type"] == "opened"]
    cap = TrackerSettings().max_open_events
    assert cap < CROWD
    assert len(opened) == cap
    assert CameraEvent.objects.filter(camera=camera, ended_at__isnull=True).count() == cap


def test_the_events_of_a_frame_share_one_downscaled_copy(camera, archive):
    image = big_frame()
    for i in range(3):
        track_camera_frame(
            CameraFrame(camera.tenant_id, camera.pk, 1000 + i * 0.2, crowd(5), image, 4000, 3000)
        )
    events = list(CameraEvent.objects.filter(camera=camera))
    assert len(events) == 5
    held = stash_bytes()
    assert held < len(image), f"{held} bytes stashed for a {len(image)}-byte frame"
    first = snapshots.stashed(str(events[0].id))
    assert first is not None and all(snapshots.stashed(str(e.id)) == first for e in events)
    with Image.open(io.BytesIO(first)) as stashed:
        assert max(stashed.size) <= snapshots.STASH_MAX_SIDE
        assert stashed.size[0] / stashed.size[1] == pytest.approx(4000 / 3000, rel=0.01)


def test_a_stashed_frame_is_freed_when_no_event_points_at_it(camera, archive):
    small = seed_image("persons")
    for i in range(3):
        track_camera_frame(
            CameraFrame(camera.tenant_id, camera.pk, 1000 + i * 0.2, crowd(2), small, 546, 819)
        )
    (first, second) = CameraEvent.objects.filter(camera=camera)
    for event in (first, second):
        snapshots.store_event_snapshot(str(event.id))  # not closed: stores nothing
        snapshots.drop_stash(str(event.id))
    assert stash_bytes() == 0


def test_tracks_per_camera_are_capped_keeping_the_strongest_detections():
    from apps.alerts.tracking import CameraState, Detection, step

    state, settings = CameraState(), TrackerSettings(max_tracks=50)
    detections = [
        Detection("person", 0.3 + 0.002 * i, (i * 40.0, 100.0, i * 40.0 + 30, 300.0))
        for i in range(300)
    ]
    step(state, detections, 1000.0, settings, lambda: "event")
    assert len(state.tracks) == 50
    assert min(t.score for t in state.tracks) >= sorted(d.score for d in detections)[-50]
