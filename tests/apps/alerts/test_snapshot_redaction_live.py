"""Acceptance: the shared clip's event snapshots, for a tenant whose operator requires face
redaction, are stored blurred. The clip goes through a real portal (gunicorn, Celery, the real
worker with its YuNet stage) as a camera; each closed event's stored snapshot is fetched by
its signed link and searched with YuNet: faces on the original best frames, none above 0.5
on what was stored."""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest
import requests

from gpu_worker.stages.faces import FaceFinder
from harness.camera_clip import VISITS, sampled
from harness.processes import model_dir
from tests.apps.alerts.live import alerts_portal
from tests.apps.alerts.test_camera_events_live import Tenant

pytestmark = pytest.mark.slow
FPS = 5


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url):
    log_dir = tmp_path_factory.mktemp("snapshot-redaction")
    with alerts_portal(log_dir, worker_url) as portal:
        yield portal


def faces(finder: FaceFinder, jpeg: bytes) -> int:
    return len(finder.find(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), 0.5))


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def pixels(jpeg: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE).astype(np.int16)


def difference(a: bytes, b: bytes) -> float:
    left, right = pixels(a), pixels(b)
    if left.shape != right.shape:
        right = cv2.resize(right, left.shape[::-1])
    return float(np.abs(left - right).mean())


def test_the_clips_event_snapshots_are_stored_with_faces_blurred(portal):
    finder = FaceFinder(model_dir() / "yunet_n_dynamic.onnx")
    tenant = Tenant(portal, "private-clip")
    portal.manage("redaction", "private-clip", "--faces", "--require")
    frames = sampled(FPS)
    t0 = time.time() - 200
    tenant.send(frames, t0)

    events = tenant.closed_events(VISITS)
    on_originals = on_stored = 0
    for event in events:
        link = urlsplit(event["snapshot_url"])
        stored = requests.get(tenant.url(f"{link.path}?{link.query}"), timeout=30)
        assert stored.status_code == 200
        # The best frame the snapshot was made from: the event's frame closest to it (only
        # the blurred faces differ).
        start, end = (seconds(event[k]) - t0 for k in ("started_at", "ended_at"))
        candidates = [jpeg for offset, jpeg in frames if start - 0.5 <= offset <= end + 0.5]
        original = min(candidates, key=lambda jpeg: difference(jpeg, stored.content))
        on_originals += faces(finder, original)
        on_stored += faces(finder, stored.content)
    print(f"YuNet faces >= 0.5: {on_originals} on the original best frames, {on_stored} stored")
    assert on_originals > 0
    assert on_stored == 0
