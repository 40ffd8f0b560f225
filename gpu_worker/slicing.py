"""Sliced inference: where to cut a frame into overlapping slices, and how to merge what the
model finds in them with what it finds in the whole frame.

A 416x416 detector sees a 1080p frame shrunk 4.6 times: a person 30 px tall becomes 7 px and is
missed. Run on overlapping slices as well, the model looks closer at the same pixels. This
follows SAHI (Akyon et al., "Slicing Aided Hyper Inference", 2022; obss/sahi): the slice grid of
`sahi.slicing.get_slice_bboxes` (fixed-size windows, overlapping by a ratio, the last one pushed
back inside the frame), the whole frame kept beside the slices (SAHI's `perform_standard_pred`),
and the merge of `sahi.postprocess.combine` (greedy non-maximum merging, or NMS). The `sahi`
package is not used: it requires the GUI build of OpenCV (which would replace the worker's
headless one), matplotlib and shapely for these two small functions of numpy.

Two rules of our own, measured on COCO val2017 (docs/BENCHMARKS.md, "Sliced inference"): a
slice box touching an edge of its slice that is not the frame's border is an object cut in two
(the neighbouring slice or the whole frame sees it whole), and a slice box that is large for
its slice is an object the whole frame already sees at a scale the model was trained on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from gpu_worker.errors import bad_request
from gpu_worker.families import Detections
from gpu_worker.families.base import batched_nms

# Frames under this many times the model input on both sides are not sliced: the model
# already sees them at nearly full resolution. A larger frame is cut along every side longer
# than the input's (a 640x427 frame into 2x2, for a 416x416 input).
NO_SLICING_BELOW = 1.25
# Neighbouring slices overlap by this share of a slice (SAHI's default is 0.2): an object up to
# a quarter of a slice wide lies whole inside at least one of two neighbours.
OVERLAP = 0.25
# On each side, a slice shrinks its pixels at most 1/CLOSER as much as the whole frame does
# (640x480 up to 1920x1440 → a 2x2 grid, each slice 57% of a side), and at most
# MAX_SLICE_SHRINK times (a 4K frame → 3x2): more slices for larger frames, never more than
# MAX_PER_AXIS per side, so the whole frame and its slices stay one GPU batch of at most 8.
CLOSER = 1.7
MAX_SLICE_SHRINK = 3.5
MAX_PER_AXIS = 3
# A slice of a zone is never smaller than this share of the model input: a tiny zone is
# looked at closely, not blown up into blur.
MIN_REGION_SLICE = 0.75
MAX_REGIONS = 8
# A slice is decoded (JPEG DCT scaling) and then halved (box filter) while it keeps at least
# this share of the model input on each side it is resized along: the model sees the same
# detail, and the resize to its input is a cheap bilinear one instead of an area average over
# 2-3x as many pixels (a 1098x618 slice of a 1080p frame: 3.9 -> 1.2 CPU ms).
KEEP_OF_INPUT = 0.95

SliceMode = Literal["off", "auto", "regions"]


@dataclass(frozen=True)
class Window:
    """A slice of the frame, in the decoded frame's pixels (x2, y2 exclusive)."""

    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    def as_list(self) -> list[int]:
        return [self.x1, self.y1, self.x2, self.y2]

    def scaled(self, fx: float, fy: float, width: int, height: int) -> Window:
        """This window in pixels `fx` x `fy` times as many (a frame decoded at reduced
        scale is `width` x `height`), never outside them."""
        if fx == fy == 1.0:
            return self
        return Window(
            math.floor(self.x1 * fx),
            math.floor(self.y1 * fy),
            min(width, math.ceil(self.x2 * fx)),
            min(height, math.ceil(self.y2 * fy)),
        )


@dataclass(frozen=True)
class SliceRequest:
    """What a request asked for: no slices, slices chosen from the frame (`auto`), or slices
    of some regions only (a camera's include zones), each (x1, y1, x2, y2) in 0..1 of the
    frame's width and height."""

    mode: SliceMode = "off"
    regions: tuple[tuple[float, float, float, float], ...] = ()

    @property
    def wanted(self) -> bool:
        return self.mode != "off"


OFF = SliceRequest("off")
AUTO = SliceRequest("auto")
_OFF_WORDS = {"off", "none", "false", "no", "0"}
_AUTO_WORDS = {"auto", "on", "true", "yes", "1"}


def parse_slices(value: object) -> SliceRequest:
    """The request's `slices` option: `off` / `auto`, a JSON list of [x1, y1, x2, y2] regions
    in 0..1, or in a header `x1:y1:x2:y2|x1:y1:x2:y2` (the custom-attributes header splits on
    commas). Absent means off. 400 for anything else."""
    if value is None or value == "" or value is False:
        return OFF
    if value is True:
        return AUTO
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _OFF_WORDS:
            return OFF
        if word in _AUTO_WORDS:
            return AUTO
        return _regions([part.split(":") for part in word.split("|") if part.strip()], value)
    if isinstance(value, list):
        return _regions(value, value)
    raise _invalid(value)


def _regions(items: Sequence[object], original: object) -> SliceRequest:
    if not items or len(items) > MAX_REGIONS:
        raise _invalid(original)
    regions = []
    for item in items:
        if not isinstance(item, list | tuple) or len(item) != 4:
            raise _invalid(original)
        try:
            x1, y1, x2, y2 = (float(v) for v in item)
        except (TypeError, ValueError):
            raise _invalid(original) from None
        if not (0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1):
            raise _invalid(original)
        regions.append((x1, y1, x2, y2))
    return SliceRequest("regions", tuple(regions))


def _invalid(value: object) -> Exception:
    return bad_request(
        "invalid_slices",
        f"slices must be 'auto', 'off' or a list of up to {MAX_REGIONS} regions "
        f"[x1, y1, x2, y2] with 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1 (in a header: "
        f"x1:y1:x2:y2|...); got {value!r}",
    )


def plan_slices(
    width: int,
    height: int,
    input_size: tuple[int, int],
    request: SliceRequest,
    letterbox: bool = False,
) -> list[Window]:
    """The slices to run beside the whole frame (none: the whole frame alone suffices).

    Each side is judged on its own for stretching models (a 1920x1080 frame reaches a 416x416
    input shrunk 4.6x across but 2.6x down); a letterboxing model shrinks both sides alike."""
    shrink_x, shrink_y = width / input_size[0], height / input_size[1]
    if letterbox:
        shrink_x = shrink_y = max(shrink_x, shrink_y)
    if not request.wanted or max(shrink_x, shrink_y) < NO_SLICING_BELOW:
        return []
    limits = (_slice_shrink(shrink_x), _slice_shrink(shrink_y))
    whole_frame = _grid(Window(0, 0, width, height), width, height, input_size, limits)
    if request.mode == "auto":
        return whole_frame
    windows: list[Window] = []
    for x1, y1, x2, y2 in request.regions:
        area = Window(
            math.floor(x1 * width),
            math.floor(y1 * height),
            math.ceil(x2 * width),
            math.ceil(y2 * height),
        )
        area = _at_least(area, width, height, input_size)
        for window in _grid(area, width, height, input_size, limits):
            if window not in windows:
                windows.append(window)
    # Regions never cost more than the whole frame's slices: many or large zones get those.
    return windows if len(windows) < len(whole_frame) else whole_frame


def _slice_shrink(frame_shrink: float) -> float:
    """How much a slice may shrink its pixels on a side the whole frame shrinks this much;
    a side no longer than the input's is not cut (infinite: one slice is enough)."""
    if frame_shrink <= 1.0:
        return math.inf
    return min(max(1.0, frame_shrink / CLOSER), MAX_SLICE_SHRINK)


def _grid(
    area: Window,
    width: int,
    height: int,
    input_size: tuple[int, int],
    limits: tuple[float, float],
) -> list[Window]:
    """Overlapping slices covering `area`, as few as keep each slice within its limits."""
    cols = _count(area.width, input_size[0], limits[0])
    rows = _count(area.height, input_size[1], limits[1])
    if cols == rows == 1 and (area.width, area.height) == (width, height):
        return []  # one slice of the whole frame would be the whole frame again
    xs = _axis(area.x1, area.width, cols)
    ys = _axis(area.y1, area.height, rows)
    return [Window(x1, y1, x2, y2) for y1, y2 in ys for x1, x2 in xs]


def _count(length: int, input_length: int, slice_shrink: float) -> int:
    """Slices along one side so that each, overlap included, shrinks at most slice_shrink."""
    for count in range(1, MAX_PER_AXIS + 1):
        size = length / (count - (count - 1) * OVERLAP)
        if size <= input_length * slice_shrink:
            return count
    return MAX_PER_AXIS


def _axis(start: int, length: int, count: int) -> list[tuple[int, int]]:
    """`count` equal spans over [start, start + length), neighbours overlapping by OVERLAP."""
    if count == 1:
        return [(start, start + length)]
    size = math.ceil(length / (count - (count - 1) * OVERLAP))
    step = (length - size) / (count - 1)
    spans = []
    for index in range(count):
        lo = start + round(index * step)
        spans.append((lo, min(lo + size, start + length)))
    return spans


def _at_least(area: Window, width: int, height: int, input_size: tuple[int, int]) -> Window:
    """Grow a small region around its centre to MIN_REGION_SLICE of the model input."""
    min_w = min(width, math.ceil(input_size[0] * MIN_REGION_SLICE))
    min_h = min(height, math.ceil(input_size[1] * MIN_REGION_SLICE))
    x1, x2 = _grow(area.x1, area.x2, min_w, width)
    y1, y2 = _grow(area.y1, area.y2, min_h, height)
    return Window(x1, y1, x2, y2)


def _grow(lo: int, hi: int, minimum: int, limit: int) -> tuple[int, int]:
    if hi - lo >= minimum:
        return lo, hi
    lo = max(0, (lo + hi - minimum) // 2)
    hi = min(limit, lo + minimum)
    return hi - minimum, hi


def decode_size(
    width: int,
    height: int,
    windows: Sequence[Window],
    input_size: tuple[int, int],
    letterbox: bool = False,
) -> tuple[int, int]:
    """The smallest decoded size (decode_image's min_size) at which every slice still
    reaches the model input: a 4:3 frame of 1920x1440 in 2x2 slices decodes at half scale
    (slices of 549x411 for a 416x416 input), a 1920x1080 one in full (549x309 would not)."""
    divisor = 1
    for candidate in (8, 4, 2):
        if all(
            _keeps(w.width / candidate, w.height / candidate, input_size, letterbox)
            for w in windows
        ):
            divisor = candidate
            break
    return math.ceil(width / divisor), math.ceil(height / divisor)


def _keeps(width: float, height: float, input_size: tuple[int, int], letterbox: bool) -> bool:
    if letterbox:  # one scale for both sides: the side that binds must still fill the input
        return max(width / input_size[0], height / input_size[1]) >= KEEP_OF_INPUT
    return width >= input_size[0] * KEEP_OF_INPUT and height >= input_size[1] * KEEP_OF_INPUT


def reduced(
    pixels: np.ndarray,
    input_size: tuple[int, int],
    letterbox: bool = False,
    keep: float = 1.0,
    per_side: bool = True,
) -> tuple[np.ndarray, float, float]:
    """`pixels` halved (a 2-pixel box average) along each side that stays at least `keep`
    times the model input's, as often as it does; with the factors that map the result's
    pixels back to `pixels`' (x, y). A letterboxing model, or `per_side=False`, halves both
    sides or neither: the whole frame then gets the input the whole-frame path gives it (JPEG
    DCT scaling halves both sides; the family's area resize does the rest)."""
    height, width = pixels.shape[:2]
    small = pixels
    while True:
        h, w = small.shape[:2]
        if letterbox:
            fits = max(w / 2 / input_size[0], h / 2 / input_size[1]) >= keep
            half_w, half_h = (w // 2, h // 2) if fits else (w, h)
        else:
            half_w = w // 2 if w / 2 >= input_size[0] * keep else w
            half_h = h // 2 if h / 2 >= input_size[1] * keep else h
            if not per_side and (half_w == w or half_h == h):
                half_w, half_h = w, h
        if (half_w, half_h) == (w, h):
            break
        # Bilinear at exactly one half samples between two pixels: their mean, a box filter.
        small = cv2.resize(small, (half_w, half_h), interpolation=cv2.INTER_LINEAR)
    return small, width / small.shape[1], height / small.shape[0]


@dataclass(frozen=True)
class MergeRule:
    """How slice boxes join the whole frame's (the defaults won on COCO val2017)."""

    method: Literal["nms", "nms_all", "greedy_nmm", "wbf"] = "nms"
    iou: float = 0.6  # NMS / WBF: same-class boxes overlapping more are one object
    ios: float = 0.5  # greedy NMM: intersection over the smaller box (SAHI's default)
    edge_margin: float = 0.01  # share of the slice side within which a box touches its edge
    # A slice box whose side (geometric mean) is more than this share of its slice's is left
    # to the whole frame.
    large_side: float = 0.3
    # Slice boxes below this score are dropped: at a low threshold they crowd the whole
    # frame's own low-scored boxes out of the best `max_detections`.
    min_score: float = 0.0


# Screening (a CPU, where each slice is a full inference): the whole frame runs first, and a
# slice runs only where the whole frame has a candidate of a served class scoring at least
# this that is small enough for the slice to keep (under MergeRule.large_side of its side).
# A slice adds only such boxes; where the whole frame sees none, even half-believed, the
# slice found nothing more on COCO val2017 (docs/BENCHMARKS.md: 1.5 slices per image run
# instead of 4, the same mAP; 0.2 cost pets AP).
SCREEN_SCORE = 0.1


def qualifying(window: Window, candidates: Detections, rule: MergeRule = MergeRule()) -> np.ndarray:
    """Which of the whole frame's candidates (frame pixels) the slice `window` could add or
    improve: centre inside, side (geometric mean) small for the slice."""
    if len(candidates) == 0:
        return np.zeros(0, dtype=bool)
    boxes = candidates.boxes
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    inside = (cx >= window.x1) & (cx < window.x2) & (cy >= window.y1) & (cy < window.y2)
    side = np.sqrt(
        np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0)
    )
    small = side <= rule.large_side * math.sqrt(window.width * window.height)
    return np.asarray(inside & small, dtype=bool)


def worth_running(window: Window, candidates: Detections, rule: MergeRule = MergeRule()) -> bool:
    """Whether the whole frame has a candidate the slice could add or improve."""
    return bool(qualifying(window, candidates, rule).any())


def screened(
    windows: Sequence[Window],
    candidates: Detections,
    budget: int,
    rule: MergeRule = MergeRule(),
) -> list[int]:
    """The slices (indices into `windows`, in plan order) a CPU runs: those worth running,
    and of them at most `budget` (0: all; the worker's IPCAI_CPU_MAX_SLICES), so a busy frame
    costs at most 1 + budget inferences, the strongest evidence first: the summed score of
    the small candidates each would add that no slice chosen before it holds whole (a
    candidate in an overlap counts once, for the first slice that keeps it)."""
    masks = [qualifying(w, candidates, rule) for w in windows]
    worth = [i for i, mask in enumerate(masks) if mask.any()]
    if budget <= 0 or len(worth) <= budget:
        return worth
    scores = candidates.scores.astype(np.float64)
    covered = np.zeros(len(scores), dtype=bool)
    chosen: list[int] = []
    while len(chosen) < budget:
        left = [i for i in worth if i not in chosen]
        # max() keeps the first of equals: plan order breaks ties.
        best = max(left, key=lambda i: float(scores[masks[i] & ~covered].sum()))
        chosen.append(best)
        covered |= masks[best] & _whole_inside(windows[best], candidates.boxes)
    return sorted(chosen)


def _whole_inside(window: Window, boxes: np.ndarray) -> np.ndarray:
    """Boxes lying wholly inside `window`: the slice sees them uncut."""
    return np.asarray(
        (boxes[:, 0] >= window.x1)
        & (boxes[:, 1] >= window.y1)
        & (boxes[:, 2] <= window.x2)
        & (boxes[:, 3] <= window.y2),
        dtype=bool,
    )


def merge(
    whole: Detections,
    tiles: Sequence[tuple[Window, Detections]],
    frame_size: tuple[int, int],
    rule: MergeRule = MergeRule(),
    max_detections: int = 100,
) -> Detections:
    """The whole frame's boxes plus each slice's surviving boxes (already in frame pixels),
    merged per class, best first."""
    kept = [whole]
    for window, found in tiles:
        kept.append(_surviving(window, found, frame_size, rule))
    boxes = np.concatenate([d.boxes for d in kept]).astype(np.float32)
    scores = np.concatenate([d.scores for d in kept]).astype(np.float32)
    class_ids = np.concatenate([d.class_ids for d in kept]).astype(np.int64)
    from_slice = np.arange(len(scores)) >= len(whole)
    if len(scores) == 0:
        return Detections.empty()
    if rule.method == "greedy_nmm":
        merged = _greedy_nmm(boxes, scores, class_ids, rule.ios)
    elif rule.method == "wbf":
        merged = _fuse(boxes, scores, class_ids, rule.iou)
    elif rule.method == "nms_all":
        merged = batched_nms(boxes, scores, class_ids, rule.iou, len(scores))
    else:
        merged = _slice_nms(boxes, scores, class_ids, from_slice, rule.iou)
    order = np.argsort(-merged.scores, kind="stable")[:max_detections]
    return Detections(merged.boxes[order], merged.scores[order], merged.class_ids[order])


def _surviving(
    window: Window, found: Detections, frame_size: tuple[int, int], rule: MergeRule
) -> Detections:
    """Drop boxes cut by an inner edge of the slice, and boxes large for the slice."""
    if len(found) == 0:
        return found
    boxes = found.boxes
    width, height = frame_size
    mx, my = rule.edge_margin * window.width, rule.edge_margin * window.height
    cut = np.zeros(len(boxes), dtype=bool)
    if window.x1 > 0:
        cut |= boxes[:, 0] <= window.x1 + mx
    if window.y1 > 0:
        cut |= boxes[:, 1] <= window.y1 + my
    if window.x2 < width:
        cut |= boxes[:, 2] >= window.x2 - mx
    if window.y2 < height:
        cut |= boxes[:, 3] >= window.y2 - my
    side = np.sqrt(
        np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0)
    )
    large = side > rule.large_side * math.sqrt(window.width * window.height)
    keep = ~(cut | large) & (found.scores >= rule.min_score)
    return Detections(boxes[keep], found.scores[keep], found.class_ids[keep])


def _slice_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    class_ids: np.ndarray,
    from_slice: np.ndarray,
    iou: float,
) -> Detections:
    """NMS in which only slice boxes take part as duplicates: best score first, a box goes
    when a kept box of its class overlaps it by `iou` and one of the two came from a slice.
    The whole frame's own boxes never suppress each other: plain NMS over them cost COCO
    large-object AP .013 (persons) and .019 (vehicles) on DEIMv2, whose near-duplicate boxes
    are what its mAP was measured with."""
    inter, area = _pairwise(boxes)
    union = area[:, None] + area[None, :] - inter
    overlap = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    duplicate = (overlap >= iou) & (class_ids[:, None] == class_ids[None, :])
    duplicate &= from_slice[:, None] | from_slice[None, :]
    kept = np.zeros(len(scores), dtype=bool)
    for index in np.argsort(-scores, kind="stable"):
        if not (duplicate[index] & kept).any():
            kept[index] = True
    return Detections(boxes[kept], scores[kept], class_ids[kept])


def _pairwise(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intersection areas of every pair, and each box's area."""
    area = np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0)
    lt = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    rb = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    return wh[..., 0] * wh[..., 1], area


def _clusters(
    scores: np.ndarray, class_ids: np.ndarray, overlap: np.ndarray, limit: float
) -> list[np.ndarray]:
    """Greedy, best score first: each kept box takes every unclaimed same-class box whose
    overlap with it reaches `limit` (SAHI's greedy_nmm)."""
    same = class_ids[:, None] == class_ids[None, :]
    matches = (overlap >= limit) & same
    claimed = np.zeros(len(scores), dtype=bool)
    groups = []
    for index in np.argsort(-scores, kind="stable"):
        if claimed[index]:
            continue
        members = np.flatnonzero(matches[index] & ~claimed)
        members = np.union1d(members, [index])
        claimed[members] = True
        groups.append(members)
    return groups


def _greedy_nmm(
    boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, ios: float
) -> Detections:
    """SAHI's greedy non-maximum merging: a group's box is the union, its score the best."""
    inter, area = _pairwise(boxes)
    smaller = np.minimum(area[:, None], area[None, :])
    overlap = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
    groups = _clusters(scores, class_ids, overlap, ios)
    merged = np.array(
        [[*boxes[g, :2].min(axis=0), *boxes[g, 2:].max(axis=0)] for g in groups], np.float32
    )
    return Detections(
        merged.reshape(-1, 4),
        np.array([scores[g].max() for g in groups], np.float32),
        np.array([class_ids[g[0]] for g in groups], np.int64),
    )


def _fuse(boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou: float) -> Detections:
    """Weighted box fusion (Solovyev et al., 2021), simplified: a group's box is the
    score-weighted mean of its members, its score their best."""
    inter, area = _pairwise(boxes)
    union = area[:, None] + area[None, :] - inter
    overlap = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    groups = _clusters(scores, class_ids, overlap, iou)
    fused = np.array(
        [(boxes[g] * scores[g, None]).sum(axis=0) / scores[g].sum() for g in groups], np.float32
    )
    return Detections(
        fused.reshape(-1, 4),
        np.array([scores[g].max() for g in groups], np.float32),
        np.array([class_ids[g[0]] for g in groups], np.int64),
    )
