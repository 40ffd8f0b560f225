"""`POST /regions?kinds=faces,plates`: where the faces and licence plates of an image are, so
the portal can blur them before it stores the image (docs/PRIVACY.md).

Faces come from the face stage (gpu_worker/stages/faces.py, loaded on the first ask); plates
from the detector's vehicles and the plate reader: a read plate's box, and for a vehicle
whose plate was not read (or a worker without the reader) the part of the vehicle box where
a plate sits. The answer lists boxes only; the portal blurs (the worker keeps no image).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import orjson
from starlette.requests import Request
from starlette.responses import Response

from gpu_worker.detector import job_image
from gpu_worker.errors import WorkerError, bad_request
from gpu_worker.images import decode_image, read_header
from gpu_worker.manifest import ModelFileError
from gpu_worker.serving import WorkerState
from gpu_worker.slicing import OFF
from gpu_worker.stages.faces import FaceStage
from gpu_worker.stages.plates import PLATE_CLASSES

KINDS = ("faces", "plates")
VEHICLE_MIN_CONFIDENCE = 0.3  # lower than answers use: a missed vehicle is a plate left clear
FACE_MIN_SCORE = 0.3  # likewise: blur what the finder half-believes too
# A vehicle's plate region when no plate was read: the middle of its lower part.
PLATE_REGION = (0.1, 0.45, 0.9, 1.0)  # x1, y1, x2, y2 as fractions of the vehicle box
MIN_VEHICLE_SIDE = 24  # smaller vehicles carry no plate anyone could read

_face_stages: dict[str, FaceStage] = {}


def face_stage(state: WorkerState) -> FaceStage:
    key = str(state.settings.model_dir)
    if key not in _face_stages:
        _face_stages[key] = FaceStage(state.settings.model_dir)
    return _face_stages[key]


def parse_kinds(value: str | None) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip() for k in (value or ",".join(KINDS)).split(",") if k))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise bad_request("unknown_region_kind", f"kinds must be among {', '.join(KINDS)}")
    return kinds


async def find_regions(state: WorkerState, request: Request, body: bytes) -> Response:
    started = time.perf_counter()
    try:
        if not state.ready:
            raise WorkerError(503, "not_ready", "the models are loading", {"Retry-After": "5"})
        kinds = parse_kinds(request.query_params.get("kinds"))
        header = read_header(body, state.settings.max_pixels)
        answer: dict[str, Any] = {"width": header.width, "height": header.height}
        if "faces" in kinds:
            answer["faces"] = await _faces(state, body, header)
        if "plates" in kinds:
            answer["plates"] = await _plates(state, body)
        answer["timings_ms"] = {"total": round((time.perf_counter() - started) * 1000, 2)}
        return Response(orjson.dumps(answer), media_type="application/json")
    except WorkerError as error:
        return Response(
            orjson.dumps(error.to_body()),
            error.status,
            headers=error.headers,
            media_type="application/json",
        )


async def _faces(state: WorkerState, body: bytes, header: Any) -> list[dict[str, object]]:
    try:
        finder = face_stage(state).finder()
    except ModelFileError as exc:
        raise WorkerError(
            503, "faces_unavailable", f"the face finder is not installed: {exc}"
        ) from exc

    def run() -> list[dict[str, object]]:
        pixels = decode_image(body, header).pixels
        scale = header.width / pixels.shape[1]
        faces = finder.find(pixels, FACE_MIN_SCORE)
        return [
            {"box": [round(v * scale) for v in face.box], "score": round(face.score, 4)}
            for face in faces
        ]

    return await asyncio.get_running_loop().run_in_executor(state.cpu_pool, run)


async def _plates(state: WorkerState, body: bytes) -> list[dict[str, object]]:
    served = state.model(None)
    reader = state.plates.reader if state.plates is not None else None
    application_type = "license-plates" if reader is not None else "vehicles-detection"
    job = (job_image(body, OFF), application_type, VEHICLE_MIN_CONFIDENCE)
    result, _ = await served.batcher.submit(job)
    plates = getattr(result, "plates", None) or [None] * len(result.labels)
    vehicles = [
        (box, read)
        for box, label, read in zip(result.boxes.tolist(), result.labels, plates, strict=True)
        if label in PLATE_CLASSES and min(box[2] - box[0], box[3] - box[1]) >= MIN_VEHICLE_SIDE
    ]
    regions: list[dict[str, object]] = []
    for box, read in vehicles:
        if read is not None:
            regions.append({"box": [round(v) for v in read.box], "read": True})
        else:
            fx1, fy1, fx2, fy2 = PLATE_REGION
            x1, y1, x2, y2 = box
            w, h = x2 - x1, y2 - y1
            region = [x1 + fx1 * w, y1 + fy1 * h, x1 + fx2 * w, y1 + fy2 * h]
            regions.append({"box": [round(v) for v in region], "read": False})
    if reader is not None and vehicles:
        # The read is the most plate-like text of a vehicle, not always its plate (a truck's
        # fleet number can win): every text line the reader's detector finds on a vehicle is
        # blurred too.
        def text_lines() -> list[dict[str, object]]:
            pixels = decode_image(body, read_header(body, state.settings.max_pixels)).pixels
            scale = pixels.shape[1] / result.width
            found = []
            for box, _ in vehicles:
                for line in vehicle_text(reader, pixels, [v * scale for v in box]):
                    found.append({"box": [round(v / scale) for v in line], "read": False})
            return found

        regions += await asyncio.get_running_loop().run_in_executor(state.cpu_pool, text_lines)
    return regions


def vehicle_text(reader: Any, pixels: np.ndarray, box: list[float]) -> list[list[float]]:
    """Text lines (x1, y1, x2, y2 in `pixels`) the plate reader's text detector finds inside a
    vehicle box, at the finest of its detection sizes. Uses the reader's own detection pass
    (PlateReader._detect_regions) so the regions are exactly those it could read."""
    height, width = pixels.shape[:2]
    x1, y1 = max(0, round(box[0])), max(0, round(box[1]))
    x2, y2 = min(width, round(box[2])), min(height, round(box[3]))
    if min(x2 - x1, y2 - y1) < 8:
        return []
    crop = pixels[y1:y2, x1:x2]
    lines = []
    side = max(reader.options.det_sides)  # the finest of its sizes: one pass, not each
    for region in reader._detect_regions(crop, side / max(x2 - x1, y2 - y1)):
        rx1, ry1, rx2, ry2 = region.box
        lines.append([rx1 + x1, ry1 + y1, rx2 + x1, ry2 + y1])
    return lines
