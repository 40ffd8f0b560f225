"""Typed results of the service's JSON answers.

Each class keeps the full JSON it came from in `raw`, so fields the service adds later stay
reachable without a client upgrade.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Box:
    """Pixel coordinates in the original image: top-left (x1, y1), bottom-right (x2, y2)."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    def as_list(self) -> list[float]:
        return [self.x1, self.y1, self.x2, self.y2]


@dataclass(frozen=True, slots=True)
class Detection:
    """One object found: its class label, confidence in [0, 1] and box; for a camera's frame,
    the camera's zones the box is in (None when the answer had no `zones`, as without a
    camera)."""

    label: str
    score: float
    box: Box
    zones: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Detection:
        x1, y1, x2, y2 = (float(v) for v in data["box"])
        zones = data.get("zones")
        return cls(
            label=str(data["label"]),
            score=float(data["score"]),
            box=Box(x1, y1, x2, y2),
            zones=None if zones is None else tuple(str(z) for z in zones),
        )

    def to_json(self) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "label": self.label,
            "score": self.score,
            "box": self.box.as_list(),
        }
        if self.zones is not None:
            shape["zones"] = list(self.zones)
        return shape


@dataclass(frozen=True, slots=True)
class DetectionResult:
    """The answer of `POST /api/v1/detect/<service>` for one image."""

    service: str
    width: int
    height: int
    detections: tuple[Detection, ...]
    model: str | None = None
    request_id: str | None = None
    timings: Mapping[str, float] = field(default_factory=dict)  # milliseconds, per stage
    # Sliced inference, when it ran or was asked for: {"requested", "count", "windows"}
    # (each window [x1, y1, x2, y2] in image pixels); None for the whole frame alone.
    slices: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], service: str) -> DetectionResult:
        # The image size may come flat (`width`) or grouped (`image: {width, height}`).
        image: Mapping[str, Any] = data["image"] if isinstance(data.get("image"), Mapping) else {}
        return cls(
            service=str(data.get("application_type") or data.get("service") or service),
            width=int(data.get("width", image.get("width", 0))),
            height=int(data.get("height", image.get("height", 0))),
            detections=tuple(Detection.from_json(d) for d in data.get("detections", ())),
            model=data.get("model"),
            request_id=None if data.get("request_id") is None else str(data["request_id"]),
            timings=dict(data.get("timings_ms") or data.get("timings") or {}),
            slices=dict(data["slices"]) if isinstance(data.get("slices"), Mapping) else None,
            raw=dict(data),
        )

    def counts(self) -> dict[str, int]:
        """Objects per class label, most frequent first."""
        return dict(Counter(d.label for d in self.detections).most_common())

    def to_json(self) -> dict[str, Any]:
        """A compact, stable JSON shape for command-line output (with the camera events a
        camera's frame opened, updated or closed, when it was one)."""
        shape = {
            "service": self.service,
            "width": self.width,
            "height": self.height,
            "model": self.model,
            "request_id": self.request_id,
            "counts": self.counts(),
            "detections": [d.to_json() for d in self.detections],
        }
        if self.slices is not None:
            shape["slices"] = dict(self.slices)
        if "events" in self.raw:
            shape["events"] = list(self.raw["events"])
        return shape
