"""The plate reader: a second model stage that reads the licence plate of each detected vehicle.

Vehicle box (from the detector) → text regions in the vehicle crop (PP-OCRv4 text detection, a
DB segmentation net) → the best plate-like regions recognised (PP-OCRv6 small recognition,
CTC) → text normalised to letters and digits, with O/0, I/1, B/8 settled by position where a
known format tells → one read with its score and box. A frame with no plate-carrying vehicle
is searched whole, as one vehicle (close-ups of a plate). The networks are ONNX files shipped
in pinned wheels (manifest: plates_det from `rapidocr-onnxruntime`, plates_rec from
`rapidocr`); we call them with our own ONNX Runtime sessions rather than rapidocr's wrapper,
which would pull in its own OpenCV build and run a direction classifier we do not need.

A general text detector rather than a plate detector: none with a permissive licence was found
(`platedet` is AGPL-3.0). Text detection also finds stickers, dealer frames and badges; the
candidate choice below (plate aspect, recognised characters, position in the vehicle) is what
keeps the plate. docs/PLATES.md has the measurements behind every constant here.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypedDict

import cv2
import numpy as np

from gpu_worker.answer import SeedAnswer
from gpu_worker.app_types import wants_plates
from gpu_worker.batching import RunBatch
from gpu_worker.config import WorkerSettings
from gpu_worker.detector import DetectionResult, PreparedImage
from gpu_worker.errors import WorkerError
from gpu_worker.images import decode_image, read_header
from gpu_worker.manifest import ModelFileError, stage_weights, verified_stage_path

log = logging.getLogger(__name__)

# Classes worth a read: a plate on a bicycle or a train is not a thing.
PLATE_CLASSES = frozenset({"car", "motorcycle", "bus", "truck"})
REC_MEAN_STD = 0.5  # recognition takes (x / 255 - 0.5) / 0.5 on BGR
DET_ALIGN = 32  # the det net's input sides are multiples of its largest stride
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
REC_HEIGHT = 48
REC_MAX_WIDTH = 320
PLATE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
PLATE_ALPHABET = frozenset(PLATE_CHARS)
PLATE_INDEX = {char: index for index, char in enumerate(PLATE_CHARS)}
# Characters the recogniser may emit between plate characters (dashes, dots, state
# separators, spaces): dropped, never turned into a letter.
SEPARATORS = frozenset(" -·.•:")


@dataclass(frozen=True)
class PlateOptions:
    """The reader's knobs. Defaults are the measured ones (docs/PLATES.md)."""

    # The vehicle's longer side in text detection's input, one pass per entry, in order; a
    # pass runs only when the ones before it read nothing good enough (accept_rank). With
    # PP-OCRv6 recognition a cheap 288 px look first reads most plates: 179/222 at 32 ms per
    # read vehicle against 177/222 at 51 ms for (416, 544), same run (docs/PLATES.md).
    det_sides: tuple[int, ...] = (288, 416, 544)
    accept_rank: float = 0.8  # a read this good (score x text prior) ends the search
    det_threshold: float = 0.3  # DB's pixel threshold on the probability map
    box_threshold: float = 0.5  # mean probability inside a region to keep it
    # DB grows each region by area x ratio / perimeter (the net predicts shrunken text).
    # PaddleOCR's 1.6: with the plate-scale second detection (refine_width) 1.4 read 153/222
    # against 158 (1.4 helped the one-pass reader, whose regions took in frame edges).
    unclip_ratio: float = 1.6
    min_plate_width: int = 40  # original-image pixels: narrower text is not read
    min_plate_height: int = 12
    min_vehicle_side: int = 64  # smaller vehicles cannot carry a readable plate
    max_candidates: int = 2  # regions recognised per vehicle (the best-shaped first)
    # A candidate is looked at again before reading: its neighbourhood (grown by these
    # fractions of its width and height) scaled to this width and text-detected once more,
    # which separates the character line from the state name, slogan and frame that the
    # coarse pass merges into one region. 0 turns it off.
    refine_width: int = 160
    refine_pad_x: float = 0.15
    refine_pad_y: float = 0.6
    # A line that runs into the side of that neighbourhood is looked at again with the
    # neighbourhood grown by this fraction of the candidate's width on each side (0: off).
    edge_pad_x: float = 0.6
    edge_margin: float = 0.3  # of the line's height: this close to the side counts
    # A read ranking under accept_rank is read again from its line lengthened at both ends by
    # this fraction of its height (0: off): 184 -> 191/222 at the same CPU (docs/PLATES.md).
    grown_read: float = 0.8
    # So is a read whose first or last character is under this probability, or that the
    # format fit had to change: a line drawn tight cuts its end characters into look-alikes
    # (W read as N, M as 1, F as E) with a good rank. The lengthened read is kept unless it
    # ranks more than grown_margin under the first (it sees the ends whole, and the frame
    # beside them costs it a little confidence): 195 -> 200/222 at +1 ms (docs/PLATES.md).
    grown_edge_doubt: float = 0.9
    grown_margin: float = 0.05
    # A read of fewer characters than this is looked at again with the plate-scale
    # neighbourhood grown by this fraction of its width on each side (0 turns it off).
    short_read: int = 5
    short_read_pad_x: float = 1.0
    # A vehicle whose passes read a plate-length text, none good enough (under accept_rank),
    # is looked at once more, closer: its lower part (below this fraction of its height: no
    # roof, no windows) at this side, where the text detector finds the whole plate it saw
    # only part of, or misread. Not when nothing was read: a side view or a far car has no
    # plate to find, and would pay a fourth pass (docs/PLATES.md). 0 turns it off.
    closer_side: int = 480
    closer_top: float = 0.2
    min_score: float = 0.5  # reads below this are not returned
    min_length: int = 4
    # A read is settled to the US format it fits best (each position the likeliest letter or
    # digit as the format says) when that costs at most this much log-probability summed over
    # the characters changed; a read further from every format is kept as read (vanity plates).
    format_max_cost: float = 3.0
    max_length: int = 8
    # A frame with no plate-carrying vehicle is searched whole (read_frame): text detection at
    # these sides, and a read kept only at this rank (score x plate prior), as a frame holds
    # shop signs and words where a vehicle holds its plate. One pass: 7 of the set's 10
    # close-ups at ~33 ms per empty frame; (416, 544) read 8 at ~96 ms. At 0.75, 1 of 150
    # COCO frames without a vehicle answers a plate (a boat's registration number).
    frame_sides: tuple[int, ...] = (416,)
    frame_min_rank: float = 0.75


class PlateAnswer(TypedDict):
    text: str
    score: float
    box: list[int]  # x1, y1, x2, y2 in original-image pixels


@dataclass(frozen=True)
class PlateRead:
    text: str
    score: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in original-image pixels

    def to_json(self) -> PlateAnswer:
        return {
            "text": self.text,
            "score": round(self.score, 4),
            "box": [round(v) for v in self.box],
        }


@dataclass
class _Region:
    quad: np.ndarray  # 4x2 float32 corners in original-image pixels (clockwise from top-left)
    det_score: float

    @property
    def width(self) -> float:
        return float(np.linalg.norm(self.quad[1] - self.quad[0]))

    @property
    def height(self) -> float:
        return float(np.linalg.norm(self.quad[3] - self.quad[0]))

    @property
    def box(self) -> tuple[float, float, float, float]:
        return _quad_box(self.quad)


@dataclass(frozen=True)
class _LineRead:
    """One recognition of a line: its text, the plate read it makes (None when no plate's
    length), its rank, the per-character probabilities behind it, and whether the format fit
    changed the text (beyond the free O/0, I/1, B/8 swaps)."""

    text: str
    read: PlateRead | None
    rank: float
    choices: list[np.ndarray]
    refitted: bool

    def doubtful(self, edge_doubt: float) -> bool:
        """Whether the read needed the format fit, or its first or last character is under
        edge_doubt: what a line cut at its ends reads like."""
        if self.refitted:
            return True
        return bool(self.choices) and min(self.choices[0].max(), self.choices[-1].max()) < (
            edge_doubt
        )


class PlateReader:
    """Reads plates of vehicles in a decoded image. One session pair serves every lane: ONNX
    Runtime's run is thread-safe, and with one intra-op thread each call runs on its caller's
    thread, so reads on N lanes use N cores and the weights are loaded once."""

    def __init__(
        self,
        det_path: Path,
        rec_path: Path,
        threads: int = 1,
        options: PlateOptions | None = None,
    ) -> None:
        import onnxruntime as ort

        self.options = options or PlateOptions()
        session_options = ort.SessionOptions()
        session_options.intra_op_num_threads = threads
        session_options.inter_op_num_threads = 1
        session_options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session_options.log_severity_level = 3
        # Input sizes vary per vehicle: CUDA when present, never the TensorRT provider (it
        # would build an engine per shape on the request path).
        available = ort.get_available_providers()
        providers = [p for p in ("CUDAExecutionProvider",) if p in available]
        providers.append("CPUExecutionProvider")
        self._det = ort.InferenceSession(str(det_path), session_options, providers=providers)
        rec_model, characters = plate_recogniser(rec_path)
        self._rec = ort.InferenceSession(rec_model, session_options, providers=providers)
        self._det_input = self._det.get_inputs()[0].name
        self._rec_input = self._rec.get_inputs()[0].name
        self._decoder = PlateTextDecoder(characters)

    def warm_up(self) -> None:
        """First runs at the sizes requests use, so the first plate request is not slow."""
        image = np.full((480, 640, 3), 114, np.uint8)
        cv2.rectangle(image, (250, 300), (390, 340), (255, 255, 255), -1)
        cv2.putText(image, "ABC1234", (258, 332), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 0, 0), 2)
        self.read(image, (0, 0, 640, 480))

    def read_many(
        self, pixels: np.ndarray, boxes: np.ndarray, labels: Sequence[str]
    ) -> list[PlateRead | None]:
        """One read (or None) per detection; only vehicle classes are read."""
        return [
            self.read(pixels, (x1, y1, x2, y2)) if label in PLATE_CLASSES else None
            for (x1, y1, x2, y2), label in zip(boxes.tolist(), labels, strict=True)
        ]

    def read_frame(self, pixels: np.ndarray) -> PlateRead | None:
        """The most plate-like read in the whole frame, searched as one vehicle would be: for
        frames where the detector found no plate-carrying vehicle (a close-up of a plate and
        a bumper is no "car" to the detector, but its plate is the easiest to read)."""
        height, width = pixels.shape[:2]
        best, rank = self._search(pixels, (0, 0, width, height), self.options.frame_sides)
        if best is None or rank < self.options.frame_min_rank:
            return None
        return best

    def read(
        self, pixels: np.ndarray, vehicle_box: tuple[float, float, float, float]
    ) -> PlateRead | None:
        """The most plate-like read inside vehicle_box (original-image pixels), or None."""
        opts = self.options
        best, rank = self._search(pixels, vehicle_box, opts.det_sides)
        if 0 < rank < opts.accept_rank and opts.closer_side > 0:
            x1, y1, x2, y2 = vehicle_box
            lower = (x1, y1 + opts.closer_top * (y2 - y1), x2, y2)
            closer, closer_rank = self._search(pixels, lower, (opts.closer_side,))
            if closer_rank > rank:
                best = closer
        if best is None or best.score < opts.min_score:
            return None
        return best

    def _search(
        self,
        pixels: np.ndarray,
        vehicle_box: tuple[float, float, float, float],
        sides: Sequence[int],
    ) -> tuple[PlateRead | None, float]:
        """The best read inside vehicle_box and its rank (score x plate prior)."""
        opts = self.options
        height, width = pixels.shape[:2]
        x1, y1, x2, y2 = (round(v) for v in vehicle_box)
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(width, x2), min(height, y2)
        if min(x2 - x1, y2 - y1) < opts.min_vehicle_side:
            return None, 0.0
        vehicle_side = max(x2 - x1, y2 - y1)
        crop = pixels[y1:y2, x1:x2]
        best: PlateRead | None = None
        best_rank = -1.0
        read_boxes: list[tuple[float, float, float, float]] = []
        # A cheap pass first; the next, finer one only when it found nothing plate-like: the
        # text detector misses some plates at one scale and finds them at another.
        for side in sides:
            regions = self._detect_regions(crop, side / vehicle_side)
            for region in regions:
                region.quad += (x1, y1)
            regions = [
                r
                for r in regions
                if r.width >= opts.min_plate_width
                and r.height >= opts.min_plate_height
                and not any(_iou(r.box, seen) > 0.5 for seen in read_boxes)
            ]
            regions.sort(key=lambda r: _plate_shape_rank(r, (x1, y1, x2, y2)), reverse=True)
            for region in regions[: opts.max_candidates]:
                read_boxes.append(region.box)
                for pad_x in (None, opts.short_read_pad_x):
                    quad = self._refined_line(pixels, region, pad_x)
                    text, read, rank = self._read_line(pixels, quad)
                    if read is not None and rank > best_rank:
                        best, best_rank = read, rank
                    # A read shorter than any plate is often part of one: the vehicle pass
                    # found "627" of "627 WWI", and the plate-scale look, grown by a
                    # fraction of that, never saw the rest. Look once more, wider.
                    if len(text) >= opts.short_read or opts.short_read_pad_x <= 0:
                        break
                if best_rank >= opts.accept_rank:
                    return best, best_rank
        return best, best_rank

    def _read_line(
        self, pixels: np.ndarray, quad: np.ndarray
    ) -> tuple[str, PlateRead | None, float]:
        """(the line's first text read, the plate read kept, its rank). A line the detector
        drew tight can lose or cut its end characters ("78160" of "L781601", "NSG979" of
        "WSG979"): a read that ranks under accept_rank, or is doubtful at its ends or needed
        the format fit, is read again from the line lengthened at both ends, and that read is
        kept unless it ranks clearly worse."""
        opts = self.options
        first = self._read_quad(pixels, quad)
        if opts.grown_read <= 0 or (
            first.rank >= opts.accept_rank and not first.doubtful(opts.grown_edge_doubt)
        ):
            return first.text, first.read, first.rank
        grown = self._read_quad(pixels, _grown_along(quad, opts.grown_read))
        if grown.read is not None and grown.rank >= first.rank - opts.grown_margin:
            return first.text, grown.read, grown.rank
        return first.text, first.read, first.rank

    def _read_quad(self, pixels: np.ndarray, quad: np.ndarray) -> _LineRead:
        """One recognition of the straightened quad, settled to a plate read and ranked."""
        opts = self.options
        probabilities = self._recognise([_warp_region(pixels, quad)])[0]
        raw, choices = self._decoder.decode_choices(probabilities)
        text, score = settle_read(raw, choices, opts.format_max_cost)
        if not opts.min_length <= len(text) <= opts.max_length:
            return _LineRead(text, None, 0.0, choices, refitted=False)
        read = PlateRead(text, score, _quad_box(quad))
        rank = score * plate_text_prior(raw, text)
        return _LineRead(text, read, rank, choices, refitted=text != normalise_plate(raw))

    def _refined_line(
        self, pixels: np.ndarray, region: _Region, pad_x: float | None = None
    ) -> np.ndarray:
        """The character line inside a candidate region, from a second text detection of its
        neighbourhood at plate scale. A small plate's region from the vehicle pass often holds
        the whole plate (state name and slogan included); read as one line, those become extra
        characters. The line is the tallest wide region; regions beside it on the same line
        (a plate split at a registration sticker or a dash) are merged into it. Falls back to
        the candidate itself when the second pass finds nothing."""
        opts = self.options
        if opts.refine_width <= 0:
            return region.quad
        pad_x = opts.refine_pad_x if pad_x is None else pad_x
        x1, y1, x2, y2 = region.box
        height, width = pixels.shape[:2]
        w, h = x2 - x1, y2 - y1
        cx1, cx2 = (
            max(0, int(x1 - pad_x * w)),
            min(width, int(np.ceil(x2 + pad_x * w))),
        )
        cy1, cy2 = (
            max(0, int(y1 - opts.refine_pad_y * h)),
            min(height, int(np.ceil(y2 + opts.refine_pad_y * h))),
        )
        crop = pixels[cy1:cy2, cx1:cx2]
        # The same plate-scale pixels whatever the padding: the width grows with the pad.
        scaled_width = opts.refine_width * (1 + 2 * pad_x) / (1 + 2 * opts.refine_pad_x)
        regions = self._detect_regions(crop, scaled_width / max(1, cx2 - cx1))
        if not regions:
            return region.quad
        wide = [r for r in regions if r.width >= 0.25 * (cx2 - cx1)] or regions
        main = max(wide, key=lambda r: r.height * min(r.width, 6 * r.height))
        top, bottom = main.box[1], main.box[3]
        line = [
            r
            for r in regions
            if r is main
            or (top <= (r.box[1] + r.box[3]) / 2 <= bottom and r.height >= 0.6 * main.height)
        ]
        quad = main.quad
        if len(line) > 1:
            points = np.concatenate([r.quad for r in line]).astype(np.float32)
            quad = _order_corners(cv2.boxPoints(cv2.minAreaRect(points)))
        if pad_x < opts.edge_pad_x and _runs_off_crop(
            quad, opts.edge_margin * main.height, cx2 - cx1, cx1 > 0, cx2 < width
        ):
            # The line runs into the crop's side: the vehicle pass found part of the plate
            # ("78 160" of "L78 1601"), so the rest lies outside. Look again, wider.
            return self._refined_line(pixels, region, opts.edge_pad_x)
        return quad + np.array([cx1, cy1], np.float32)

    def _detect_regions(self, crop: np.ndarray, ratio: float) -> list[_Region]:
        opts = self.options
        crop_h, crop_w = crop.shape[:2]
        in_w = max(DET_ALIGN, round(crop_w * ratio / DET_ALIGN) * DET_ALIGN)
        in_h = max(DET_ALIGN, round(crop_h * ratio / DET_ALIGN) * DET_ALIGN)
        resized = cv2.resize(crop, (in_w, in_h), interpolation=cv2.INTER_LINEAR)
        # PaddleOCR's own det normalisation (ImageNet mean/std on BGR). rapidocr's config uses
        # 0.5/0.5 instead; on the first 60 plates ImageNet's found 41 plates where 0.5/0.5
        # found 33 at the same input size.
        blob = (resized.astype(np.float32) / 255 - IMAGENET_MEAN) / IMAGENET_STD
        blob = np.ascontiguousarray(blob.transpose(2, 0, 1)[None])
        prob = self._det.run(None, {self._det_input: blob})[0][0, 0]
        scale_x, scale_y = crop_w / in_w, crop_h / in_h
        return [
            _Region(quad * (scale_x, scale_y), score)
            for quad, score in db_regions(
                prob, opts.det_threshold, opts.box_threshold, opts.unclip_ratio
            )
        ]

    def _recognise(self, lines: list[np.ndarray]) -> list[np.ndarray]:
        widths = [
            min(REC_MAX_WIDTH, max(REC_HEIGHT, int(np.ceil(REC_HEIGHT * w / h))))
            for h, w in (line.shape[:2] for line in lines)
        ]
        batch_w = max(widths)
        batch = np.zeros((len(lines), 3, REC_HEIGHT, batch_w), np.float32)
        for index, (line, w) in enumerate(zip(lines, widths, strict=True)):
            resized = cv2.resize(line, (w, REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
            batch[index, :, :, :w] = cv2.dnn.blobFromImage(
                resized, scalefactor=1 / (255 * REC_MEAN_STD), mean=(127.5, 127.5, 127.5)
            )[0]
        output = self._rec.run(None, {self._rec_input: batch})[0]
        # Columns past a line's own width only saw padding.
        return [
            output[i, : max(1, int(np.ceil(output.shape[1] * w / batch_w)))]
            for i, w in enumerate(widths)
        ]


def db_regions(
    prob: np.ndarray, threshold: float, box_threshold: float, unclip_ratio: float
) -> list[tuple[np.ndarray, float]]:
    """DB post-processing (PaddleOCR's DBPostProcess, rectangles only): threshold the text
    probability map, take each blob's rotated rectangle, keep those whose mean probability
    passes, then grow each by area * unclip_ratio / perimeter on every side, as the net was
    trained to predict text shrunk by that much. Corners clockwise from the top-left."""
    mask = (prob > threshold).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    regions = []
    for contour in contours[:200]:
        if len(contour) < 4:
            continue
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if min(w, h) < 3:
            continue
        x, y, bw, bh = cv2.boundingRect(contour)
        blob = mask[y : y + bh, x : x + bw]
        score = float(cv2.mean(prob[y : y + bh, x : x + bw], blob)[0])
        if score < box_threshold:
            continue
        distance = (w * h) * unclip_ratio / (2 * (w + h))
        rect = ((cx, cy), (w + 2 * distance, h + 2 * distance), angle)
        regions.append((_order_corners(cv2.boxPoints(rect)), score))
    return regions


def _order_corners(points: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left, the text reading left to right."""
    points = points[np.argsort(points[:, 0])]
    left, right = points[:2], points[2:]
    top_left, bottom_left = left[np.argsort(left[:, 1])]
    top_right, bottom_right = right[np.argsort(right[:, 1])]
    return np.array([top_left, top_right, bottom_right, bottom_left], np.float32)


def _warp_region(pixels: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The region straightened to an upright line image at its own resolution."""
    width = max(1, round(np.linalg.norm(quad[1] - quad[0])))
    height = max(1, round(np.linalg.norm(quad[3] - quad[0])))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return cv2.warpPerspective(
        pixels, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _grown_along(quad: np.ndarray, fraction: float) -> np.ndarray:
    """The quad lengthened at both ends along its text direction by fraction of its height."""
    along = quad[1] - quad[0]
    along = along / max(float(np.linalg.norm(along)), 1e-6)
    height = float(np.linalg.norm(quad[3] - quad[0]))
    step = along * fraction * height
    return np.array([quad[0] - step, quad[1] + step, quad[2] + step, quad[3] - step], np.float32)


def _runs_off_crop(
    quad: np.ndarray, margin: float, crop_width: int, left_open: bool, right_open: bool
) -> bool:
    """Whether a line found in a crop comes within margin of a side the image goes on past."""
    xs = quad[:, 0]
    return (left_open and float(xs.min()) <= margin) or (
        right_open and float(xs.max()) >= crop_width - margin
    )


def _quad_box(quad: np.ndarray) -> tuple[float, float, float, float]:
    x1, y1 = quad.min(axis=0)
    x2, y2 = quad.max(axis=0)
    return float(x1), float(y1), float(x2), float(y2)


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _plate_shape_rank(region: _Region, vehicle: tuple[int, int, int, int]) -> float:
    """How plate-like a text region looks before reading it: a plate's character line is
    2 to 6 times as wide as tall, in the lower two thirds of the vehicle, near its middle."""
    aspect = region.width / max(region.height, 1.0)
    aspect_fit = 1.0 if 2.0 <= aspect <= 5.5 else (0.5 if 1.5 <= aspect <= 8 else 0.1)
    x1, y1, x2, y2 = vehicle
    cx = (region.box[0] + region.box[2]) / 2
    cy = (region.box[1] + region.box[3]) / 2
    rel_x = (cx - x1) / max(x2 - x1, 1)
    rel_y = (cy - y1) / max(y2 - y1, 1)
    position = (1.0 - min(abs(rel_x - 0.5), 0.5)) * (1.0 if rel_y >= 0.3 else 0.5)
    return aspect_fit * position * region.det_score


def decodable(char: str) -> bool:
    """Whether decoding may emit this vocabulary entry: a letter (either case), a digit, or a
    separator dropped between plate characters."""
    return char.upper() in PLATE_ALPHABET or char in SEPARATORS


def plate_recogniser(path: Path) -> tuple[bytes, list[str]]:
    """The recogniser with its output layer cut to what a plate can hold, and the characters
    it still knows. PaddleOCR's recognisers end in one linear layer over their whole
    vocabulary (18708 characters for PP-OCRv6) and a softmax; only the CTC blank, letters,
    digits and separators are ever decoded, so the other columns are dropped from that
    layer's weights (in memory: the checksummed file is what was verified). The softmax then
    runs over the kept columns: the same argmax, the same log-probability differences between
    kept characters (what the format fit weighs), 3 ms less CPU per line (18.3 -> 15.4 ms at
    48x224, one core)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    vocabulary = ["", *metadata["character"].splitlines(), " "]
    keep = [
        index
        for index, char in enumerate(vocabulary)
        if index == 0 or index == len(vocabulary) - 1 or decodable(char)
    ]
    resized = 0
    for initializer in model.graph.initializer:
        dims = list(initializer.dims)
        if dims and dims[-1] == len(vocabulary) and len(dims) <= 2:
            values = numpy_helper.to_array(initializer)[..., keep]
            initializer.CopyFrom(
                numpy_helper.from_array(np.ascontiguousarray(values), initializer.name)
            )
            resized += 1
    if resized != 2:  # the layer's weight and bias
        raise ModelFileError(f"{path.name}: no output layer over its {len(vocabulary)} characters")
    for output in model.graph.output:
        output.type.tensor_type.shape.dim[-1].ClearField("dim_value")
    return model.SerializeToString(), [vocabulary[i] for i in keep[1:-1]]


class PlateTextDecoder:
    """CTC greedy decoding restricted to what a plate can hold: at each step the best of
    blank, a letter, a digit or a separator. The recogniser knows 6623 characters (it reads
    Chinese too); a stroke it would read as a CJK character then becomes the likeliest
    plate character instead, and lower case is folded into upper case."""

    def __init__(self, characters: Sequence[str]) -> None:
        vocabulary = ["", *characters, " "]  # CTC blank first, PaddleOCR's space last
        keep: list[int] = [0]
        symbols: list[str] = [""]
        for index, char in enumerate(vocabulary):
            if index == 0:
                continue
            folded = char.upper()
            if decodable(char):
                keep.append(index)
                symbols.append(folded if folded in PLATE_ALPHABET else " ")
        self._columns = np.asarray(keep)
        self._symbols = symbols
        self._plate_columns = np.asarray(
            [i for i, symbol in enumerate(symbols) if symbol in PLATE_INDEX]
        )
        self._plate_index = np.asarray([PLATE_INDEX[symbols[i]] for i in self._plate_columns])

    def decode(self, probabilities: np.ndarray) -> tuple[str, float]:
        """(text, score): the score is the mean probability of the emitted characters."""
        text, choices = self.decode_choices(probabilities)
        if not text:
            return "", 0.0
        return text, float(
            np.mean([c[PLATE_INDEX[ch]] for ch, c in zip(text, choices, strict=True)])
        )

    def decode_choices(self, probabilities: np.ndarray) -> tuple[str, list[np.ndarray]]:
        """The greedy read and, per character, the probability of each of A-Z 0-9 at the
        first step it was read: what a format fit chooses from."""
        restricted = probabilities[:, self._columns]
        best = restricted.argmax(axis=1)
        chars: list[str] = []
        steps: list[int] = []
        previous = -1
        for step, index in enumerate(best.tolist()):
            if index != previous and index != 0 and self._symbols[index] != " ":
                chars.append(self._symbols[index])
                steps.append(step)
            previous = index
        if not chars:
            return "", []
        rows = restricted[steps]
        # Several vocabulary entries fold to one plate character (a and A): keep the best.
        folded = np.zeros((len(steps), len(PLATE_CHARS)), np.float32)
        np.maximum.at(folded.T, self._plate_index, rows[:, self._plate_columns].T)
        return "".join(chars), list(folded)


# Common US formats (a = letter, 9 = digit); a read whose letters and digits disagree with
# every format at O/0, I/1 or B/8 positions only is settled to the one format it fits.
# aaaa99 is Florida's current ABC D12 serial.
US_FORMATS = ("9aaa999", "aaa9999", "aaa999", "999aaa", "aa99999", "9aa9999", "aa9a9a",
              "999a999", "a999999", "9a99999", "9aa999", "aa9999", "9999999",
              "aa9a999", "aaaa99")  # fmt: skip
TO_DIGIT = {"I": "1", "B": "8"}
TO_LETTER = {"1": "I", "8": "B"}
_NOT_PLATE = re.compile(r"[^A-Z0-9]")


def normalise_plate(text: str) -> str:
    """Letters and digits only, upper case; O always as 0 (US plates do not tell them apart),
    then I/1 and B/8 resolved by the known formats the read fits: a read that fits one as it
    is stays; otherwise the fit changing fewest characters, then the one with most digits (a
    stroke read as I or B is more often a 1 or an 8 than the letter). On the set, preferring
    digits outright turned five aaa9999 plates starting with B into 8s."""
    text = _NOT_PLATE.sub("", text.upper()).replace("O", "0")
    fitted = {fit for fmt in US_FORMATS if (fit := _fit_format(text, fmt)) is not None}
    if not fitted:
        return text
    return min(
        sorted(fitted),
        key=lambda fit: (
            sum(a != b for a, b in zip(fit, text, strict=True)),
            -sum(c.isdigit() for c in fit),
        ),
    )


_FREE_TO_DIGIT = {**TO_DIGIT, "O": "0"}
_FREE_TO_LETTER = {**TO_LETTER, "0": "O"}
_LETTER_MASK = np.array([c.isalpha() for c in PLATE_CHARS])
_FORMAT_MASKS = {fmt: np.array([k == "a" for k in fmt]) for fmt in US_FORMATS}


def fit_plate(raw: str, choices: Sequence[np.ndarray], max_cost: float) -> tuple[str, float]:
    """(text, score) of a read settled by format with the recogniser's own probabilities: for
    each known format of the read's length, each position takes its likeliest letter or digit
    as the format asks; the cheapest fit (log-probability lost against the read as it is)
    wins if it costs at most max_cost. This settles look-alikes the recogniser hesitates on
    (L/1, Z/2, S/5, D/0) the way it leans. I/1, B/8 and O/0 swap for free, as normalise_plate
    does: the recogniser calls a plate's 1 an I and its 8 a B with confidence. Ties go to
    fewer changes, then more digits. O is written 0 (the plates' own convention: US plates
    do not tell them apart). Score: the mean probability of the characters returned."""
    if not raw:
        return "", 0.0
    table = np.stack(choices)  # characters x 36
    free_indices = table.argmax(axis=1)
    free = np.log(table.max(axis=1) + 1e-9)
    best_key = (max_cost, 0, 0)
    text_indices = free_indices
    probs = table.max(axis=1)
    for fmt in US_FORMATS:
        if len(fmt) != len(raw):
            continue
        allowed = np.where(_FORMAT_MASKS[fmt][:, None] == _LETTER_MASK[None, :], table, 0.0)
        indices = allowed.argmax(axis=1)
        chosen = allowed[np.arange(len(raw)), indices]
        costs = free - np.log(chosen + 1e-9)
        for position, (was, kind) in enumerate(zip(raw, fmt, strict=True)):
            swap = (_FREE_TO_DIGIT if kind == "9" else _FREE_TO_LETTER).get(was)
            if swap is not None:  # scored as the character read
                indices[position], costs[position] = PLATE_INDEX[swap], 0.0
                chosen[position] = table[position].max()
        changes = int(np.sum(indices != free_indices))
        key = (float(costs.sum()), changes, -int(np.sum(indices >= 26)))
        if key <= best_key:
            best_key, text_indices, probs = key, indices, chosen
    text = "".join(PLATE_CHARS[i] for i in text_indices).replace("O", "0")
    return text, float(np.mean(probs))


def trim_edge_mark(raw: str, choices: list[np.ndarray]) -> tuple[str, list[np.ndarray]]:
    """A read longer than a US serial (7) whose first or last character dropped leaves a read
    fitting a known format as it is: that character was a state's emblem beside the serial
    (Arizona's cactus reads as a 4) or a bolt, not part of the plate. Eight-character vanity
    plates fit no format once trimmed and are kept."""
    if len(raw) <= 7:
        return raw, choices
    normalised = raw.replace("O", "0")
    for start, end in ((1, len(raw)), (0, len(raw) - 1)):
        if fits_a_format(normalised[start:end]):
            return raw[start:end], choices[start:end]
    return raw, choices


def settle_read(raw: str, choices: list[np.ndarray], max_cost: float) -> tuple[str, float]:
    """(text, score) of a raw read: an edge mark trimmed, then fitted to a format
    (fit_plate). A read of seven or eight that no format takes even so, but one takes as read
    with its fourth character dropped, loses that character: the emblem between the serial's
    halves (Florida's orange, Texas's star) read as a letter or digit."""
    raw, choices = trim_edge_mark(raw, choices)
    text, score = fit_plate(raw, choices, max_cost)
    inner = raw[:3] + raw[4:]
    if len(raw) in (7, 8) and not fits_a_format(text) and fits_a_format(inner.replace("O", "0")):
        return fit_plate(inner, choices[:3] + choices[4:], max_cost)
    return text, score


def fits_a_format(text: str) -> bool:
    return any(_fit_format(text, fmt) == text for fmt in US_FORMATS)


def _fit_format(text: str, fmt: str) -> str | None:
    if len(text) != len(fmt):
        return None
    out = []
    for char, kind in zip(text, fmt, strict=True):
        if kind == "9" and not char.isdigit():
            if char not in TO_DIGIT:
                return None
            out.append(TO_DIGIT[char])
        elif kind == "a" and char.isdigit():
            if char not in TO_LETTER:
                return None
            out.append(TO_LETTER[char])
        else:
            out.append(char)
    return "".join(out)


def plate_text_prior(raw: str, text: str) -> float:
    """How much a read looks like a plate rather than a word (a make, a dealer's name, a
    state): plates mix letters and digits (an O in the raw read counts as the letter it
    was read as: METRO is a word), hold five to eight characters and fit a known format."""
    raw = _NOT_PLATE.sub("", raw.upper())
    digits = sum(c.isdigit() for c in raw)
    mixed = 1.0 if 0 < digits < len(raw) else (0.8 if digits else 0.4)
    length = 1.0 if 5 <= len(text) <= 8 else 0.8
    known = 1.0 if fits_a_format(text) else 0.85
    return mixed * length * known


class SeedAnswerWithPlates(SeedAnswer):
    """The seed's answer plus `plates`: one entry per object, null where none was read, and
    `frame_plates`: plates found in a frame without a plate-carrying vehicle (PlateResult)."""

    plates: list[PlateAnswer | None]
    frame_plates: list[PlateAnswer]


@dataclass
class PlateResult(DetectionResult):
    """A detection result with one plate read (or None) per detection, in the same order,
    and `frame_plates`: plates read in a frame with no plate-carrying vehicle detected (at
    most one), which belong to no detection, so they never pose as one (a box labelled car
    that is a plate would mislead every client counting cars)."""

    plates: list[PlateRead | None] = field(default_factory=list)
    frame_plates: list[PlateRead] = field(default_factory=list)

    def to_seed_json(self) -> SeedAnswerWithPlates:
        plates = [None if read is None else read.to_json() for read in self.plates]
        frame_plates = [read.to_json() for read in self.frame_plates]
        return {**super().to_seed_json(), "plates": plates, "frame_plates": frame_plates}


class PlateStage:
    """The stage as the server runs it: after a model's batch, the requests that asked for
    plates (application type license-plates) get their vehicles read, on the same lane
    thread. Other requests pass through untouched: they cost what they cost without it."""

    def __init__(self, reader: PlateReader | None, unavailable: str = "") -> None:
        self.reader = reader
        self.unavailable = unavailable  # why there is no reader, for the 503

    @classmethod
    def load(cls, settings: WorkerSettings) -> PlateStage:
        """The reader when enabled and its checksummed weights are installed; else a stage
        that answers plate requests 503 with the reason (logged once here)."""
        if not settings.plates:
            return cls(None, "the plate reader is off on this worker (IPCAI_PLATES=0)")
        try:
            det = verified_stage_path(stage_weights("plates_det"), settings.model_dir)
            rec = verified_stage_path(stage_weights("plates_rec"), settings.model_dir)
        except ModelFileError as exc:
            log.warning("plate reader not loaded", extra={"fields": {"reason": str(exc)}})
            return cls(None, f"the plate reader is not installed on this worker: {exc}")
        reader = PlateReader(det, rec, threads=settings.threads_per_lane)
        reader.warm_up()
        log.info("plate reader ready", extra={"fields": {"det": str(det), "rec": str(rec)}})
        return cls(reader)

    def wrap(self, run_batch: RunBatch) -> RunBatch:
        """run_batch, then plate reads for the jobs (image, application_type, min_confidence)
        whose type asks for them; a failed read fails its request alone."""

        def run_with_plates(lane: Any, jobs: list[Any]) -> list[Any]:
            results = run_batch(lane, jobs)
            for index, (job, result) in enumerate(zip(jobs, results, strict=True)):
                if isinstance(result, DetectionResult) and wants_plates(job[1]):
                    try:
                        results[index] = self.attach(job[0], result)
                    except Exception as exc:  # delivered to that request alone
                        results[index] = exc
            return results

        return run_with_plates

    def attach(self, image: Any, result: DetectionResult) -> PlateResult:
        """Read each vehicle's plate from the full-resolution image; the detector may have
        decoded a smaller one (DCT scaling), too coarse for plate characters."""
        if self.reader is None:
            raise WorkerError(503, "plates_unavailable", self.unavailable)
        started = time.perf_counter()
        pixels, scale = _full_resolution(image)
        boxes = result.boxes * scale
        reads = [
            None if read is None else _scaled(read, 1 / scale)
            for read in self.reader.read_many(pixels, boxes, result.labels)
        ]
        frame_plates = []
        if not any(label in PLATE_CLASSES for label in result.labels):
            frame_read = self.reader.read_frame(pixels)
            if frame_read is not None:
                frame_plates.append(_scaled(frame_read, 1 / scale))
        values = {f.name: getattr(result, f.name) for f in fields(result)}
        timings = dict(result.timings_s)
        timings["postprocess"] = timings.get("postprocess", 0.0) + time.perf_counter() - started
        values["timings_s"] = timings
        return PlateResult(**values, plates=reads, frame_plates=frame_plates)


def _full_resolution(image: Any) -> tuple[np.ndarray, float]:
    """Pixels to read plates from and their scale from original-image pixels. Bytes (a
    sliced request carries them as `.data`) are decoded whole; an image the decode pool
    already prepared is used as it is."""
    if isinstance(image, PreparedImage):
        sx, _ = image.decoded.scale_to_original
        return image.decoded.pixels, 1 / sx
    data = getattr(image, "data", image)
    decoded = decode_image(data, read_header(data, 1 << 62))
    return decoded.pixels, 1.0


def _scaled(read: PlateRead, factor: float) -> PlateRead:
    if factor == 1.0:
        return read
    x1, y1, x2, y2 = read.box
    return PlateRead(read.text, read.score, (x1 * factor, y1 * factor, x2 * factor, y2 * factor))
