"""A redacting tenant's video-job snapshots are stored with faces blurred: the shared clip as a
video job (Celery eager, the real worker), each event's snapshot searched with YuNet."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from apps.tenants.redaction import set_required_redaction
from gpu_worker.stages.faces import FaceFinder
from harness.camera_clip import CLIP
from harness.processes import model_dir
from tests.apps.alerts.video_jobs.test_api import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def video_settings(settings, archive, tmp_path):
    settings.IPCAI_VIDEO_WORK_DIR = tmp_path / "work"
    return settings


def clip_frame(seconds: float) -> np.ndarray:
    capture = cv2.VideoCapture(str(CLIP))
    capture.set(cv2.CAP_PROP_POS_MSEC, seconds * 1000)
    ok, frame = capture.read()
    capture.release()
    assert ok
    return frame


def test_video_job_snapshots_are_stored_with_faces_blurred(
    client, tenant_a, key_a, inference, video_settings, django_capture_on_commit_callbacks
):
    finder = FaceFinder(model_dir() / "yunet_n_dynamic.onnx")
    set_required_redaction(tenant_a, faces=True, plates=False)
    response = submit(
        client, key_a, CLIP.read_bytes(), captured=django_capture_on_commit_callbacks, fps="2"
    )
    job = client.get(f"/api/v1/video-jobs/{response.json()['id']}", **key_a.headers).json()
    assert job["status"] == "succeeded", job
    on_originals = on_stored = 0
    for event in job["events"]:
        snapshot = client.get(event["snapshot_url"], **key_a.headers)
        assert snapshot.status_code == 200
        stored = cv2.imdecode(np.frombuffer(snapshot.content, np.uint8), cv2.IMREAD_COLOR)
        on_stored += len(finder.find(stored, 0.5))
        on_originals += len(finder.find(clip_frame(event["best_s"]), 0.5))
    print(f"YuNet faces >= 0.5: {on_originals} on the original frames, {on_stored} stored")
    assert on_originals > 0
    assert on_stored == 0
