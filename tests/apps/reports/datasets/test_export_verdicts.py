"""Dataset exports carry the verdicts given on camera events: false alarms as hard negatives,
confirmed events as positives, each with its best snapshot; another tenant's export none."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, datetime

import pytest

from apps.alerts.feedback.services import give_feedback
from apps.alerts.models import CameraEvent
from apps.cameras.services import create_camera
from harness.images import seed_image
from tests.apps.reports.datasets.test_exports import frames_a, start  # noqa: F401  (a fixture)


def event_with_snapshot(archive, camera, label: str, score: float) -> CameraEvent:
    event_id = uuid.uuid4()
    key = f"camera-events/{camera.tenant_id}/2026/12/05/{event_id}.jpg"
    archive.put_once(key, seed_image("persons"), "image/jpeg")
    return CameraEvent.objects.create(
        id=event_id,
        tenant_id=camera.tenant_id,
        camera=camera,
        label=label,
        started_at=datetime.now(UTC),
        max_score=score,
        box=[10.0, 20.0, 110.0, 320.0],
        frame_width=546,
        frame_height=819,
        snapshot_key=key,
        snapshot_content_type="image/jpeg",
    )


def exported(client, key, django_capture_on_commit_callbacks) -> zipfile.ZipFile:
    response = start(client, key, django_capture_on_commit_callbacks, format="coco")
    assert response.status_code == 202, response.content
    job = client.get(response["Location"], **key.headers).json()
    assert job["status"] == "done", job
    download = client.get(job["download_url"], **key.headers)
    return zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))


@pytest.mark.usefixtures("frames_a")  # archived frames: the export itself has content
def test_false_alarms_are_hard_negatives_and_confirmed_events_positives(
    client, key_a, key_b, tenant_a, archive, django_capture_on_commit_callbacks
):
    camera = create_camera(tenant_a, {"name": "porch"})
    wrong = event_with_snapshot(archive, camera, "person", 0.55)
    right = event_with_snapshot(archive, camera, "person", 0.91)
    give_feedback(wrong, "false_alarm", "a coat on a hook", "alice")
    give_feedback(right, "confirmed", "", "alice")

    archive_zip = exported(client, key_a, django_capture_on_commit_callbacks)
    document = json.loads(archive_zip.read("verdicts/verdicts.json"))
    by_event = {item["event"]: item for item in document["verdicts"]}
    assert by_event[str(wrong.id)]["use"] == "hard_negative"
    assert by_event[str(wrong.id)]["note"] == "a coat on a hook"
    assert by_event[str(right.id)]["use"] == "positive"
    for item in by_event.values():
        assert archive_zip.read(item["image"]) == seed_image("persons")
        assert item["box"] == [10.0, 20.0, 110.0, 320.0] and item["camera"] == camera.public_id

    other = exported(client, key_b, django_capture_on_commit_callbacks)
    assert not [name for name in other.namelist() if name.startswith("verdicts/")]
