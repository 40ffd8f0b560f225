"""One vehicle, one event: the default detector calls the car of the plates acceptance clip
both "car" and a weaker "truck" at nearly the same box (recorded once from the real worker and
reader by bench/record_plate_clip_detections.py into data/plate_clip_detections.json). A camera
alerting on every class used to get a car event and a truck event with the same plate; the
tracker's vehicle family makes it one car event whose plate is the truth. Persons and pets
still track per class."""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path

import orjson
import pytest

from apps.alerts import alerting, watchlists
from apps.alerts.frames import CameraFrame, track_camera_frame
from apps.alerts.models import CameraEvent
from apps.alerts.tracking import CameraState, Detection, TrackerSettings, one_per_object, step
from apps.cameras.services import create_camera
from harness.images import seed_image

FIXTURE = Path(__file__).parent / "data" / "plate_clip_detections.json"
THRESHOLD = 0.5  # the license-plates service's default min_confidence


@cache
def clip() -> dict:
    return orjson.loads(FIXTURE.read_bytes())


def kept_frames() -> list[list[dict]]:
    """Each frame's detections above the service's threshold, as the portal keeps them."""
    return [[d for d in frame if d["score"] >= THRESHOLD] for frame in clip()["frames"]]


def replay(settings: TrackerSettings) -> list[tuple[str, str]]:
    """(event id, label) of each event the tracker opens over the clip, then closes it."""
    state, counter = CameraState(), itertools.count(1)
    opened: list[tuple[str, str]] = []
    interval = clip()["frame_interval_s"]
    for i, frame in enumerate(kept_frames()):
        detections = [Detection(d["label"], d["score"], tuple(d["box"])) for d in frame]
        t = 1000 + i * interval
        changes = step(state, detections, t, settings, lambda: f"ev{next(counter)}")
        opened += [(c.event_id, c.track.label) for c in changes or [] if c.kind == "opened"]
    return opened


def test_the_clip_has_the_double_the_family_removes():
    labels = {d["label"] for frame in kept_frames() for d in frame}
    assert labels == {"car", "truck"}
    per_class = replay(TrackerSettings(families=()))  # tracks per class, as before
    assert sorted(label for _, label in per_class) == ["car", "truck"]


def test_every_vehicle_class_alerting_gets_one_car_event():
    assert [label for _, label in replay(TrackerSettings())] == ["car"]


@pytest.fixture
def camera(tenant_a, archive):
    alerting._settings_cache.clear()
    return create_camera(tenant_a, {"name": "gate"})


def test_one_event_whose_plate_is_the_truth_through_the_frame_hook(camera):
    """The portal's own path (frames.py, the database, Redis): one event; the frames where the
    truck box won still vote for the plate; the list marks it once."""
    banned = watchlists.create_watchlist(camera.tenant_id, "banned")
    watchlists.add_entry(banned, clip()["truth"])
    image = seed_image("persons")
    for i, frame in enumerate(kept_frames()):
        detections = [{**d, "zones": []} for d in frame]
        captured = 1000 + i * clip()["frame_interval_s"]
        track_camera_frame(
            CameraFrame(
                camera.tenant_id,
                camera.pk,
                captured,
                detections,
                image,
                clip()["width"],
                clip()["height"],
            )
        )
    (event,) = CameraEvent.objects.filter(camera=camera)
    assert event.label == "car"
    assert event.plate_text == clip()["truth"]
    assert event.watchlists == ["banned"]
    # 30 frames less the 2 before the event opened (3 of 5 confirm it), every one read.
    assert sum(count for count, _ in event.plate_reads.values()) == len(kept_frames()) - 2


def box(x: float, y: float, w: float = 200, h: float = 150) -> tuple[float, float, float, float]:
    return (x, y, x + w, y + h)


def test_only_other_classes_of_the_family_are_duplicates():
    settings = TrackerSettings()
    car, truck = Detection("car", 0.8, box(0, 0)), Detection("truck", 0.4, box(2, 1))
    two_cars = [Detection("car", 0.8, box(0, 0)), Detection("car", 0.6, box(2, 1))]
    person_and_dog = [Detection("person", 0.8, box(0, 0)), Detection("dog", 0.6, box(2, 1))]
    assert one_per_object([truck, car], settings) == [car]
    assert one_per_object(two_cars, settings) == two_cars  # the detector's NMS decides
    assert one_per_object(person_and_dog, settings) == person_and_dog
    beside = Detection("truck", 0.4, box(150, 0))  # overlapping a little: another vehicle
    assert one_per_object([car, beside], settings) == [car, beside]


def test_a_track_keeps_its_vehicle_when_the_class_flips_and_takes_the_likeliest_class():
    settings, state = TrackerSettings(), CameraState()
    ids = itertools.count(1)
    sightings = [("truck", 0.55), ("car", 0.7), ("car", 0.75), ("truck", 0.6), ("car", 0.7)]
    opened = []
    for i, (label, score) in enumerate(sightings):
        det = Detection(label, score, box(10 + 3 * i, 10))
        changes = step(state, [det], 100 + 0.2 * i, settings, lambda: f"ev{next(ids)}") or []
        opened += [c.track.label for c in changes if c.kind == "opened"]
    (track,) = state.tracks
    assert opened == ["car"]  # opened on the third sighting: car 1.45 against truck 0.55
    assert track.label == "car" and track.label_scores == pytest.approx(
        {"car": 2.15, "truck": 1.15}
    )


def test_a_track_never_takes_a_neighbour_of_another_class_by_distance():
    """Same-class tracks follow fast motion by centre distance; across classes only overlap
    counts, so a car missed for a frame does not take the truck beside it."""
    settings, state = TrackerSettings(confirm_hits=1), CameraState()
    ids = itertools.count(1)
    step(state, [Detection("car", 0.8, box(0, 0))], 100.0, settings, lambda: f"ev{next(ids)}")
    step(state, [Detection("truck", 0.8, box(120, 0))], 100.2, settings, lambda: f"ev{next(ids)}")
    assert sorted(t.label for t in state.tracks) == ["car", "truck"]
