"""The plate development set (shared/eval/plates/us) and its scoring, shared by the plate
benchmark and the test that holds a floor on a fixed subset.

Scoring follows the set's README: a read is exact when its text, upper-cased with everything
but letters and digits removed, equals the truth. Per image the read judged is the one whose
box overlaps the true plate, else the best-scoring read anywhere in the image, a frame plate
(read where no vehicle was detected) included. A reader that reads a sticker or another car's
plate instead is wrong, and counted as a box miss when the text still happens to match.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from harness.processes import shared_dir

_NOT_PLATE = re.compile(r"[^A-Z0-9]")
PLATE_CLASSES = frozenset({"car", "motorcycle", "bus", "truck"})  # gpu_worker/stages/plates.py


@dataclass(frozen=True)
class PlateTruth:
    image: Path
    box: tuple[int, int, int, int]  # x1, y1, x2, y2
    text: str


@dataclass(frozen=True)
class Judged:
    truth: PlateTruth
    read: str  # "" when nothing was read
    exact: bool
    box_miss: bool  # right text from a box that does not overlap the true plate
    on_plate: bool = False  # the judged read's box overlaps the true plate
    vehicles: int = 0  # detections of a plate-carrying class in the answer

    @property
    def failure(self) -> str:
        """Why a read is not exact, for the bench's breakdown ("" when it is)."""
        if self.exact:
            return ""
        if not self.vehicles:
            return "no vehicle detected"
        if not self.read:
            return "vehicle found, nothing read"
        if not self.on_plate:
            return "read off the plate (sticker, badge, other text)"
        if edit_distance(self.read, self.truth.text) == 1:
            return "on the plate, one character off"
        return "on the plate, two or more characters off"


def plates_dir() -> Path:
    return shared_dir() / "eval" / "plates" / "us"


def load_truth(limit: int | None = None) -> list[PlateTruth]:
    """The set in its file's order (the test's fixed subset is the first `limit`)."""
    root = plates_dir()
    entries = json.loads((root / "plates.json").read_text())
    truths = [
        PlateTruth(
            root / "images" / e["image"],
            (e["box"][0], e["box"][1], e["box"][0] + e["box"][2], e["box"][1] + e["box"][3]),
            e["text"],
        )
        for e in entries
    ]
    return truths[:limit]


def _overlaps(a: list[int] | tuple[int, ...], b: tuple[int, int, int, int]) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        previous, row[0] = row[:], i
        for j, char_b in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (char_a != char_b))
    return row[-1]


def judge(truth: PlateTruth, answer: dict) -> Judged:
    """Score one worker answer (the seed shape with `plates`) against the truth."""
    vehicles = sum(names[0] in PLATE_CLASSES for names in answer.get("class_names", []))
    # frame_plates: read in a frame where no plate-carrying vehicle was detected (close-ups)
    reads = [p for p in [*answer.get("plates", []), *answer.get("frame_plates", [])] if p]
    on_plate = [p for p in reads if _overlaps(p["box"], truth.box)]
    pool = on_plate or reads
    if not pool:
        return Judged(truth, "", False, False, False, vehicles)
    best = max(pool, key=lambda p: p["score"])
    text = _NOT_PLATE.sub("", best["text"].upper())
    exact = text == truth.text
    return Judged(truth, text, exact, exact and not on_plate, bool(on_plate), vehicles)
