"""Chunks cover every sample once, and a visit crossing chunk boundaries is one event: the
chunks' frames are joined in media order before the tracker runs (analysis.events_of), where
tracking each chunk alone would split it."""

from __future__ import annotations

import uuid

import pytest

from apps.alerts.tracking import TrackerSettings
from apps.alerts.video_jobs.analysis import events_of
from apps.alerts.video_jobs.chunking import effective_fps, plan_chunks, sample_count
from apps.alerts.video_jobs.models import VideoJob


@pytest.mark.parametrize(
    ("duration", "fps", "chunk_s"), [(139.4, 2, 20), (139.4, 5, 60), (3.0, 1, 60)]
)
def test_chunks_cover_every_sample_exactly_once(duration, fps, chunk_s):
    plans = plan_chunks(duration, fps, chunk_s)
    covered = [k for p in plans for k in range(p.first_sample, p.end_sample)]
    assert covered == list(range(sample_count(duration, fps)))
    assert plans[-1].end_s == pytest.approx(duration, abs=1 / fps)
    assert all(p.end_s - p.start_s <= chunk_s + 1e-9 for p in plans)


def test_the_sampling_rate_is_at_most_the_clips():
    assert effective_fps(30, 10) == 10
    assert effective_fps(2, 10) == 2


def walker(t0: float, t1: float, fps: float) -> list[dict]:
    """A person walking left to right from t0 to t1, sampled at fps, nothing before or after."""
    frames = []
    for k in range(int(60 * fps)):
        t = k / fps
        detections = []
        if t0 <= t <= t1:
            x = 10 + (t - t0) * 20
            detections = [{"label": "person", "score": 0.9, "box": [x, 100, x + 60, 300]}]
        frames.append({"t": t, "detections": detections})
    return frames


def test_a_visit_crossing_chunk_boundaries_is_one_event():
    frames = walker(15.0, 45.0, fps=2)
    plans = plan_chunks(60, 2, chunk_s=20)  # boundaries at 20 s and 40 s
    chunks = [frames[p.first_sample : p.end_sample] for p in plans]
    job = VideoJob(id=uuid.uuid4(), tenant_id=1)

    joined = events_of([f for chunk in chunks for f in chunk], TrackerSettings(), job)
    assert [(e.start_s, e.end_s) for e in joined] == [(16.0, 45.0)]

    # What tracking each chunk on its own would give: the visit split at every boundary.
    alone = [e for chunk in chunks for e in events_of(chunk, TrackerSettings(), job)]
    assert len(alone) == 3


def test_a_vehicle_event_carries_the_plate_read_on_its_box():
    from apps.alerts.video_jobs.analysis import kept_detections

    frames = []
    for k in range(8):
        x = 100 + 10 * k
        answer = {
            "width": 768,
            "height": 432,
            "bbox_coords": [[x, 100, x + 200, 220], [500, 300, 560, 420]],
            "bbox_scores": [[0.9], [0.8]],
            "class_names": [["car"], ["person"]],
            "plates": [{"text": "AB123CD", "score": 0.8, "box": [x + 80, 190, x + 130, 205]}, None],
        }
        thresholds = {"vehicles-detection": 0.5, "license-plates": 0.5}
        detections = kept_detections(answer, thresholds, None)
        assert [d["label"] for d in detections] == ["car"]  # once, though two services keep cars
        frames.append({"t": k / 2, "detections": detections})
    job = VideoJob(id=uuid.uuid4(), tenant_id=1)
    (event,) = events_of(frames, TrackerSettings(), job)
    assert event.label == "car" and event.plate == "AB123CD"
