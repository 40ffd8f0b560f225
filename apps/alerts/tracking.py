"""Turn one camera's stream of detections into tracks and event changes, on plain values.

No Django, no Redis: ``step`` takes the camera's state, one frame's kept detections and the
frame's capture time, mutates the state and returns what changed (event opened / updated /
closed). track_store.py keeps the state in Redis under a per-camera lock, so every portal
process sees the same tracks.

Why our own association rather than supervision's ByteTrack or norfair: both count time in
frames (ByteTrack's ``lost_track_buffer`` and ``frame_rate``, norfair's ``hit_counter``), while a
camera here sends 1 to 10 frames a second at a rate that varies, reordered across processes, and
may replay a recording faster than real time; timeouts must follow the frames' capture times.
Both keep their state in Python objects (Kalman filters, numpy arrays) that would have to be
pickled into Redis on every frame, and unpickling shared state is a code-execution risk. And a
fixed camera sees a few objects at a time, where greedy matching by overlap with a motion
prediction (what ByteTrack's first association stage does) is exact enough and costs
microseconds. So: per class, greedy IoU against each track's box moved by its velocity, with a
centre-distance fallback for fast motion at low frame rates; state as small JSON.

Vehicle classes are one family: detectors score each class on its own, so one car is often also
a weaker "truck" (or a van a "bus") at nearly the same box. Within a family, a frame's box that
overlaps a more confident box of another class is the same object and is dropped, a track
follows its object when the class flips from frame to frame, and a track is labelled with the
class it was seen as most (scores summed) until its event opens. Persons and pets are no family:
they track per class as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Literal

Box = tuple[float, float, float, float]
ChangeKind = Literal["opened", "updated", "closed"]

# Velocity extrapolation is trusted for at most this long; beyond it the box stays put.
_MAX_PREDICT_S = 1.0
# Weight of the newest motion in the smoothed velocity.
_VELOCITY_ALPHA = 0.5
# A track survives this many missed frames in a row whatever the timeout says: at 0.5 fps a
# person behind a table for two frames is still the same visit (a 3 s timeout alone
# would split it). The camera's frame interval is measured from its frames' capture times.
_MISSES_TOLERATED = 2
# Weight of the newest gap in the measured frame interval, and the interval's ceiling (a camera
# that pauses for a minute must not keep its tracks for four minutes).
_INTERVAL_ALPHA = 0.2
_MAX_INTERVAL_S = 2.0
# Capture times are decimal seconds: 16.1 - 13.1 is 3.0000000000000018, not 3.
_EPSILON_S = 1e-6

# Classes a detector reports one object as at once (each class scored on its own): a car is
# often also a weaker "truck" at nearly the same box. Two-wheelers are left out: a motorcycle
# is small beside a car, and one parked in front of it is a second object.
VEHICLE_FAMILY = frozenset({"bus", "car", "truck"})


@dataclass(frozen=True)
class TrackerSettings:
    """How tracks become events. Defaults fit a fixed camera sending 1-10 frames a second:
    3 of the last 5 frames (0.3-3 s) confirm an object, a 3 s absence ends its visit."""

    confirm_hits: int = 3
    confirm_window: int = 5
    timeout_s: float = 3.0
    stationary_after_s: float = 30.0
    # Box overlap with where it stood that still counts as "not moving" (detector jitter).
    stationary_iou: float = 0.85
    # A stationary object counts as moving again only once it left most of its spot, so one
    # jittery box (a person walking past the parked car) does not start a new event.
    moved_iou: float = 0.5
    # A parked car missed by the detector for a while is still the same parked car.
    stationary_forget_s: float = 600.0
    cooldown_s: float = 0.0
    labels: frozenset[str] | None = None  # alerting classes; None: every class kept
    match_iou: float = 0.15
    match_distance: float = 0.6  # centre distance over the track box's diagonal
    # Classes that are one object when their boxes overlap (see VEHICLE_FAMILY): boxes of one
    # frame overlapping a more confident box of another class of the family by duplicate_iou
    # or more are dropped; a track matches a box of another class of its family only by
    # overlap (family_match_iou or more, no centre-distance fallback), so it never takes the
    # box of a neighbouring vehicle of another class.
    families: tuple[frozenset[str], ...] = (VEHICLE_FAMILY,)
    duplicate_iou: float = 0.7
    family_match_iou: float = 0.5
    # Bounds per camera (each open event holds a snapshot in Redis; issue 31): a crowded
    # frame opens at most this many events, the rest open as earlier ones close; detections
    # beyond max_tracks new tracks (the lowest scores first) are not tracked.
    max_open_events: int = 20
    max_tracks: int = 200


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: Box
    zones: tuple[str, ...] = ()


@dataclass
class Track:
    id: int
    label: str
    box: list[float]
    first_seen: float
    last_seen: float
    velocity: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    hits: list[int] = field(default_factory=list)  # 1/0 per camera frame, newest last
    event_id: str | None = None
    event_open: bool = False
    event_started: float | None = None
    stationary: bool = False
    still_box: list[float] = field(default_factory=list)
    still_since: float = 0.0
    score: float = 0.0  # this frame's
    max_score: float = 0.0
    best_score: float = 0.0
    best_box: list[float] = field(default_factory=list)
    best_at: float | None = None
    zones: list[str] = field(default_factory=list)
    # Summed scores per class it was seen as; `label` is the highest until its event opens.
    label_scores: dict[str, float] = field(default_factory=dict)


@dataclass
class CameraState:
    last_t: float | None = None
    next_track: int = 1
    tracks: list[Track] = field(default_factory=list)
    cooldown_until: dict[str, float] = field(default_factory=dict)
    interval: float = 0.0  # the camera's measured frame interval (s); 0 until two frames

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> CameraState:
        return cls(
            last_t=data.get("last_t"),
            next_track=data.get("next_track", 1),
            tracks=[Track(**t) for t in data.get("tracks", [])],
            cooldown_until=dict(data.get("cooldown_until", {})),
            interval=float(data.get("interval", 0.0)),
        )

    def deadline(self, settings: TrackerSettings) -> float | None:
        """Capture time by which some track expires unless seen again; None: no tracks."""
        if not self.tracks:
            return None
        return min(t.last_seen + _keep_for(t, settings, self.interval) for t in self.tracks)


@dataclass(frozen=True)
class Change:
    """One event's change in this frame; `track` is a copy taken at the change."""

    kind: ChangeKind
    event_id: str
    track: Track
    best_improved: bool = False  # this frame is the event's new best snapshot
    reason: str = ""  # for "closed": "timeout" or "stationary"


def iou(a: Iterable[float], b: Iterable[float]) -> float:
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    iw = min(ax2, bx2) - max(ax1, bx1)
    ih = min(ay2, by2) - max(ay1, by1)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter / union if union > 0 else 0.0


def _centre_distance(a: list[float], b: Box) -> float:
    """Distance of the centres over the diagonal of `a` (scale-free)."""
    diagonal = math.hypot(a[2] - a[0], a[3] - a[1]) or 1.0
    dx = (a[0] + a[2] - b[0] - b[2]) / 2
    dy = (a[1] + a[3] - b[1] - b[3]) / 2
    return math.hypot(dx, dy) / diagonal


def _predicted(track: Track, t: float) -> list[float]:
    dt = min(max(t - track.last_seen, 0.0), _MAX_PREDICT_S)
    return [c + v * dt for c, v in zip(track.box, track.velocity, strict=True)]


def _keep_for(track: Track, settings: TrackerSettings, interval: float = 0.0) -> float:
    """How long after its last sighting (capture time) a track is still re-associable: the
    camera's timeout, at least _MISSES_TOLERATED missed frames at its frame rate."""
    timeout = max(settings.timeout_s, (_MISSES_TOLERATED + 1) * min(interval, _MAX_INTERVAL_S))
    if track.stationary:
        return max(timeout, settings.stationary_forget_s)
    return timeout


def _copy(track: Track) -> Track:
    return Track(**asdict(track))


def expire(state: CameraState, t: float, settings: TrackerSettings) -> list[Change]:
    """Drop tracks unseen for longer than they are kept at capture time `t`; their open
    events close, ending when the object was last seen."""
    changes: list[Change] = []
    kept: list[Track] = []
    for track in state.tracks:
        if t - track.last_seen > _keep_for(track, settings, state.interval) + _EPSILON_S:
            if track.event_open and track.event_id:
                track.event_open = False
                changes.append(Change("closed", track.event_id, _copy(track), reason="timeout"))
        else:
            kept.append(track)
    state.tracks = kept
    return changes


def _kin(a: str, b: str, settings: TrackerSettings) -> bool:
    """Two different classes of one family (one object may be reported as both)."""
    return a != b and any(a in family and b in family for family in settings.families)


def one_per_object(detections: list[Detection], settings: TrackerSettings) -> list[Detection]:
    """The frame's detections less each one that overlaps a more confident detection of
    another class of its family by duplicate_iou or more (the same vehicle, scored twice).
    Same-class overlaps are the detector's own NMS's business and stay; order is kept."""
    by_score = sorted(range(len(detections)), key=lambda i: -detections[i].score)
    kept: list[int] = []
    for i in by_score:
        det = detections[i]
        if not any(
            _kin(det.label, detections[k].label, settings)
            and iou(det.box, detections[k].box) >= settings.duplicate_iou
            for k in kept
        ):
            kept.append(i)
    return [detections[i] for i in sorted(kept)]


def _associate(
    tracks: list[Track], detections: list[Detection], t: float, settings: TrackerSettings
) -> tuple[dict[int, int], list[int]]:
    """Greedy one-to-one matching per class (or family, by overlap alone): {track index:
    detection index}, unmatched detection indexes. Best overlap first, then nearest centre."""
    pairs: list[tuple[float, float, int, int]] = []
    for ti, track in enumerate(tracks):
        predicted = _predicted(track, t)
        for di, det in enumerate(detections):
            if det.label == track.label:
                needed_iou = settings.match_iou
            elif _kin(det.label, track.label, settings):
                needed_iou = settings.family_match_iou
            else:
                continue
            overlap = iou(predicted, det.box)
            distance = _centre_distance(predicted, det.box)
            near = det.label == track.label and distance <= settings.match_distance
            if overlap >= needed_iou or near:
                pairs.append((-overlap, distance, ti, di))
    pairs.sort()
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, _, ti, di in pairs:
        if ti in matched or di in used:
            continue
        matched[ti] = di
        used.add(di)
    return matched, [di for di in range(len(detections)) if di not in used]


def _observe(track: Track, det: Detection, t: float, settings: TrackerSettings) -> bool:
    """Move the track to this detection; True when it just became stationary."""
    dt = t - track.last_seen
    if dt > 0:
        motion = [(n - o) / dt for n, o in zip(det.box, track.box, strict=True)]
        track.velocity = [
            _VELOCITY_ALPHA * m + (1 - _VELOCITY_ALPHA) * v
            for m, v in zip(motion, track.velocity, strict=True)
        ]
    track.box = list(det.box)
    track.last_seen = t
    track.score = det.score
    _vote_label(track, det)
    overlap = iou(track.still_box, det.box) if track.still_box else 0.0
    if track.stationary:
        if overlap < settings.moved_iou:  # it drove off or got up: a new visit may start
            track.stationary = False
            track.still_box, track.still_since = list(det.box), t
            track.event_id = None
        return False
    if overlap >= settings.stationary_iou:
        if t - track.still_since >= settings.stationary_after_s:
            track.stationary = True
            return True
        return False
    track.still_box, track.still_since = list(det.box), t
    return False


def _vote_label(track: Track, det: Detection) -> None:
    """Count this sighting's class; before its event opens the track takes the class it was
    seen as most (summed scores: frequent and confident), after it keeps the one its event
    was announced with."""
    scores = track.label_scores or {track.label: 0.0}
    scores[det.label] = scores.get(det.label, 0.0) + det.score
    track.label_scores = scores
    if track.event_id is None:
        track.label = max(scores, key=lambda label: (scores[label], label == track.label))


def _improve_best(track: Track, det: Detection, t: float) -> bool:
    if det.score <= track.best_score:
        return False
    track.best_score, track.best_box, track.best_at = det.score, list(det.box), t
    return True


def step(
    state: CameraState,
    detections: Iterable[Detection],
    t: float,
    settings: TrackerSettings,
    new_event_id: Callable[[], str],
) -> list[Change] | None:
    """Apply one frame captured at `t`. Returns the event changes, or None when the frame is
    older than the last one applied (a late or reordered frame opens and closes nothing; it
    only counts as a sighting for a track it is newer than, [] then)."""
    if state.last_t is not None and t < state.last_t:
        return _late_frame(state, list(detections), t, settings)
    if state.last_t is not None and t > state.last_t:
        gap = t - state.last_t
        state.interval = (
            gap
            if state.interval <= 0
            else _INTERVAL_ALPHA * gap + (1 - _INTERVAL_ALPHA) * state.interval
        )
    state.last_t = t
    changes = expire(state, t, settings)
    wanted = _wanted(detections, settings)
    matched, unmatched = _associate(state.tracks, wanted, t, settings)

    seen: dict[int, Detection] = {}  # track id -> its detection in this frame
    improved: set[int] = set()
    for ti, track in enumerate(state.tracks):
        di = matched.get(ti)
        track.hits = [*track.hits, 1 if di is not None else 0][-settings.confirm_window :]
        if di is None:
            continue
        det = wanted[di]
        seen[track.id] = det
        track.max_score = max(track.max_score, det.score)
        if track.event_open:
            track.zones = sorted({*track.zones, *det.zones})
            if _improve_best(track, det, t):
                improved.add(track.id)
        if _observe(track, det, t, settings) and track.event_open and track.event_id:
            track.event_open = False
            changes.append(Change("closed", track.event_id, _copy(track), reason="stationary"))

    room = max(0, settings.max_tracks - len(state.tracks))
    if len(unmatched) > room:  # the strongest detections get the tracks left
        unmatched = sorted(unmatched, key=lambda i: -wanted[i].score)[:room]
    for di in unmatched:
        det = wanted[di]
        track = Track(
            id=state.next_track,
            label=det.label,
            box=list(det.box),
            first_seen=t,
            last_seen=t,
            hits=[1],
            still_box=list(det.box),
            still_since=t,
            score=det.score,
            max_score=det.score,
            label_scores={det.label: det.score},
        )
        state.next_track += 1
        state.tracks.append(track)
        seen[track.id] = det

    open_events = sum(1 for track in state.tracks if track.event_open)
    for track in state.tracks:
        if track.id not in seen or track.stationary:
            continue
        if track.event_open and track.event_id:
            changes.append(Change("updated", track.event_id, _copy(track), track.id in improved))
        elif track.event_id is None and _confirmed(track, settings):
            if t < state.cooldown_until.get(track.label, -math.inf):
                continue  # stays confirmed; opens once the cooldown ends, if still seen
            if open_events >= settings.max_open_events:
                continue  # stays confirmed; opens once another event of the camera closes
            open_events += 1
            track.event_id = new_event_id()
            track.event_open = True
            track.event_started = t
            track.zones = sorted(seen[track.id].zones)
            track.best_score, track.best_box, track.best_at = track.score, list(track.box), t
            track.max_score = track.score
            if settings.cooldown_s > 0:
                state.cooldown_until[track.label] = t + settings.cooldown_s
            changes.append(Change("opened", track.event_id, _copy(track), True))
    return changes


def _late_frame(
    state: CameraState, detections: list[Detection], t: float, settings: TrackerSettings
) -> list[Change] | None:
    """A frame that arrived after a newer one (several clients, a retry): a track it shows
    later than the track's own last sighting is moved there (its timeout counts from then);
    nothing opens or closes. Only tracks with an open event: a tentative track fed by late
    frames would compete with the visit's own track. None when it changed nothing."""
    wanted = _wanted(detections, settings)
    stale = [track for track in state.tracks if track.last_seen < t and track.event_open]
    if not stale or not wanted:
        return None
    matched, _ = _associate(stale, wanted, t, settings)
    for ti, di in matched.items():
        track, det = stale[ti], wanted[di]
        track.box, track.last_seen, track.score = list(det.box), t, det.score
    return [] if matched else None


def _wanted(detections: Iterable[Detection], settings: TrackerSettings) -> list[Detection]:
    """The frame's detections of the alerting classes, one per object (one_per_object)."""
    kept = [d for d in detections if settings.labels is None or d.label in settings.labels]
    return one_per_object(kept, settings)


def _confirmed(track: Track, settings: TrackerSettings) -> bool:
    return sum(track.hits) >= settings.confirm_hits
