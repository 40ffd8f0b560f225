"""The tracker on plain values: confirmation, timeouts by capture time, late frames, stationary
objects, cooldowns, several objects of one class."""

from __future__ import annotations

import itertools

from apps.alerts.tracking import CameraState, Detection, TrackerSettings, expire, step

PERSON = (100.0, 100.0, 200.0, 400.0)


def ids():
    counter = itertools.count(1)
    return lambda: f"ev{next(counter)}"


def person(box=PERSON, score=0.8, zones=()) -> Detection:
    return Detection("person", score, box, tuple(zones))


def shifted(box, dx: float) -> tuple[float, float, float, float]:
    return (box[0] + dx, box[1], box[2] + dx, box[3])


def run(frames, settings=None):
    """Feed [(t, [detections])]; return the changes of every frame as (t, kind, event id)."""
    state, settings, new_id = CameraState(), settings or TrackerSettings(), ids()
    out = []
    for t, detections in frames:
        for change in step(state, detections, t, settings, new_id) or []:
            out.append((t, change.kind, change.event_id))
    return state, out


def test_an_object_opens_an_event_once_confirmed_and_closes_after_the_timeout():
    frames = [(t / 5, [person(shifted(PERSON, t * 4))]) for t in range(10)]
    frames.append((10.0, []))  # 8.2 s after the last sighting: past the 3 s timeout
    _, changes = run(frames)
    kinds = [(kind, event) for _, kind, event in changes]
    assert kinds[0] == ("opened", "ev1")
    assert changes[0][0] == 0.4  # the third of three frames: 3 of the last 5
    assert kinds[-1] == ("closed", "ev1")
    assert {kind for kind, _ in kinds[1:-1]} == {"updated"}
    assert [event for _, event in kinds] == ["ev1"] * len(kinds)


def test_a_single_false_detection_opens_nothing():
    _, changes = run([(0.0, [person()]), (0.2, []), (0.4, []), (0.6, []), (5.0, [])])
    assert changes == []


def test_frames_older_than_the_last_one_update_nothing():
    state, settings, new_id = CameraState(), TrackerSettings(), ids()
    for t in (10.0, 10.2, 10.4):
        step(state, [person()], t, settings, new_id)
    before = state.to_json()
    assert step(state, [person(score=0.99)], 9.0, settings, new_id) is None
    assert state.to_json() == before


def test_the_best_snapshot_follows_the_highest_score():
    state, settings, new_id = CameraState(), TrackerSettings(), ids()
    scores = [0.6, 0.6, 0.6, 0.7, 0.95, 0.8]
    improved = []
    for i, score in enumerate(scores):
        for change in step(state, [person(score=score)], i * 0.2, settings, new_id) or []:
            improved.append((change.kind, change.best_improved))
    assert improved == [("opened", True), ("updated", True), ("updated", True), ("updated", False)]
    (track,) = state.tracks
    assert track.best_score == 0.95 and track.best_at == 0.8


def test_a_still_object_stops_updating_after_the_stationary_time_and_never_reopens():
    settings = TrackerSettings(stationary_after_s=5.0)
    car = Detection("car", 0.9, (10.0, 10.0, 300.0, 200.0))
    _, changes = run([(t * 0.5, [car]) for t in range(100)], settings)
    opened = [c for c in changes if c[1] == "opened"]
    closed = [c for c in changes if c[1] == "closed"]
    assert len(opened) == 1 and len(closed) == 1
    assert closed[0][0] == 5.0  # first frame 5 s after it stood still
    assert all(t <= 5.0 for t, _, _ in changes)


def test_a_stationary_object_that_leaves_its_spot_starts_a_new_event():
    settings = TrackerSettings(stationary_after_s=2.0)
    frames = [(t * 0.5, [person()]) for t in range(8)]  # stationary from 2.0 s
    frames += [(4.0 + t * 0.5, [person(shifted(PERSON, 80 + 40 * t))]) for t in range(4)]
    _, changes = run(frames, settings)
    assert [(kind, event) for _, kind, event in changes if kind != "updated"] == [
        ("opened", "ev1"),
        ("closed", "ev1"),
        ("opened", "ev2"),
    ]


def test_two_people_side_by_side_are_two_events():
    left, right = PERSON, shifted(PERSON, 400)
    frames = [
        (t * 0.2, [person(shifted(left, 5 * t)), person(shifted(right, -5 * t))]) for t in range(10)
    ]
    _, changes = run(frames)
    assert sorted(e for _, k, e in changes if k == "opened") == ["ev1", "ev2"]


def test_a_fast_object_at_a_low_frame_rate_stays_one_track():
    # 1 fps, moving 60 % of its width per frame: no overlap left between frames.
    frames = [(float(t), [person(shifted(PERSON, 60 * t))]) for t in range(8)]
    _, changes = run(frames)
    assert {e for _, _, e in changes} == {"ev1"}


def test_the_cooldown_holds_back_a_second_event_of_the_class_until_it_ends():
    settings = TrackerSettings(cooldown_s=10.0)
    first = [(t * 0.2, [person()]) for t in range(5)]
    # The first visitor leaves; a second one arrives elsewhere 4 s later and stays.
    second = [(4.0 + t * 0.5, [person(shifted(PERSON, 300))]) for t in range(20)]
    _, changes = run(first + second, settings)
    opened = [(t, e) for t, k, e in changes if k == "opened"]
    assert opened[0] == (0.4, "ev1")
    assert opened[1][1] == "ev2" and opened[1][0] >= 10.4  # held until the cooldown ended


def test_only_alerting_classes_make_events():
    settings = TrackerSettings(labels=frozenset({"car"}))
    _, changes = run([(t * 0.2, [person()]) for t in range(10)], settings)
    assert changes == []


def test_zones_of_an_event_collect_what_its_object_entered():
    state, settings, new_id = CameraState(), TrackerSettings(), ids()
    zones = [("porch",), ("porch",), ("porch",), ("porch", "drive"), ("drive",)]
    for i, zone in enumerate(zones):
        step(state, [person(shifted(PERSON, i), zones=zone)], i * 0.2, settings, new_id)
    assert state.tracks[0].zones == ["drive", "porch"]


def test_expire_without_a_frame_closes_events_at_their_last_sighting():
    state, settings, new_id = CameraState(), TrackerSettings(), ids()
    for i in range(4):
        step(state, [person()], 100 + i * 0.2, settings, new_id)
    assert expire(state, 101.0, settings) == []  # not yet past the timeout
    (closed,) = expire(state, 104.0, settings)
    assert closed.kind == "closed" and closed.track.last_seen == 100.6
    assert state.tracks == []


def test_state_survives_a_json_round_trip():
    state, settings, new_id = CameraState(), TrackerSettings(), ids()
    for i in range(4):
        step(state, [person(zones=("porch",))], i * 0.2, settings, new_id)
    again = CameraState.from_json(state.to_json())
    assert again == state
    assert state.deadline(settings) == 0.6 + settings.timeout_s
