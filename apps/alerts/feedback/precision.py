"""How right a camera's events are, from their verdicts, and the filter settings that would
have dropped its false alarms: per class a score threshold, per camera a minimum box size,
each with the numbers behind it (how many confirmed events it keeps, how many false alarms
it drops). Pure counting over the verdict rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from apps.alerts.feedback.models import EventVerdict, Verdict


@dataclass(frozen=True)
class Suggestion:
    value: float  # keep a box when its score (or its share of the frame) is at least this
    keeps_confirmed: int
    confirmed: int
    drops_false_alarms: int
    false_alarms: int

    @property
    def precision_after(self) -> float | None:
        kept = self.keeps_confirmed + (self.false_alarms - self.drops_false_alarms)
        return round(self.keeps_confirmed / kept, 3) if kept else None

    def to_json(self) -> dict:
        return {
            "value": self.value,
            "keeps_confirmed": self.keeps_confirmed,
            "confirmed": self.confirmed,
            "drops_false_alarms": self.drops_false_alarms,
            "false_alarms": self.false_alarms,
            "precision_after": self.precision_after,
        }


@dataclass(frozen=True)
class ClassQuality:
    label: str
    confirmed: int
    false_alarms: int
    threshold: Suggestion | None

    @property
    def precision(self) -> float | None:
        total = self.confirmed + self.false_alarms
        return round(self.confirmed / total, 3) if total else None

    def to_json(self) -> dict:
        return {
            "label": self.label,
            "confirmed": self.confirmed,
            "false_alarms": self.false_alarms,
            "precision": self.precision,
            "suggested_threshold": self.threshold.to_json() if self.threshold else None,
        }


@dataclass(frozen=True)
class CameraQuality:
    classes: list[ClassQuality] = field(default_factory=list)
    min_size: Suggestion | None = None

    def to_json(self) -> dict:
        return {
            "classes": [c.to_json() for c in self.classes],
            "suggested_min_size": self.min_size.to_json() if self.min_size else None,
        }


def best_cut(confirmed: Sequence[float], false_alarms: Sequence[float]) -> Suggestion | None:
    """The cut (keep values >= it) that drops at least one false alarm while keeping the most
    confirmed events, then dropping the most false alarms; None when no cut drops any."""
    best: Suggestion | None = None
    for cut in sorted(set(confirmed) | set(false_alarms)):
        dropped = sum(1 for v in false_alarms if v < cut)
        if dropped == 0:
            continue
        kept = sum(1 for v in confirmed if v >= cut)
        candidate = Suggestion(round(cut, 4), kept, len(confirmed), dropped, len(false_alarms))
        if best is None or (kept, dropped) > (best.keeps_confirmed, best.drops_false_alarms):
            best = candidate
    return best


def camera_quality(camera_pk: int) -> CameraQuality:
    rows = EventVerdict.objects.filter(camera_id=camera_pk).values_list(
        "label", "verdict", "score", "area_fraction"
    )
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    sizes: dict[str, list[float]] = defaultdict(list)
    for label, verdict, score, fraction in rows:
        scores[label][verdict].append(score)
        if fraction > 0:  # an event without its frame's size has none
            sizes[verdict].append(fraction)
    classes = [
        ClassQuality(
            label,
            len(by[Verdict.CONFIRMED]),
            len(by[Verdict.FALSE_ALARM]),
            best_cut(by[Verdict.CONFIRMED], by[Verdict.FALSE_ALARM]),
        )
        for label, by in sorted(scores.items())
    ]
    min_size = best_cut(sizes[Verdict.CONFIRMED], sizes[Verdict.FALSE_ALARM])
    return CameraQuality(classes, min_size)
