"""Record what the default model and the plate reader answer for the drive-by clip of the plates
acceptance test, once, as the fixture the tracker tests replay
(tests/apps/alerts/data/plate_clip_detections.json).

    IPCAI_MODEL_DIR=/work/shared/models .venv/bin/python bench/record_plate_clip_detections.py \
        [--out tests/apps/alerts/data/plate_clip_detections.json] [--min-confidence 0.25]

Starts a real worker (yolox_nano on ONNX Runtime, the plate reader loaded) through the harness
the tests use and posts the 30 frames of tests/apps/alerts/test_plates_live.py (CCLVN3's photo
of ../shared/eval/plates/us moved 3 px a frame) to its /invocations as license-plates. The
detector calls that car both "car" and a weaker "truck" at nearly the same box, each with the
plate read: the double event the tracker's vehicle family removes. Boxes are kept down to
--min-confidence so a test can replay at other thresholds. Regenerate it when the default
model, the reader or the clip changes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.plate_clip import FRAMES, SHIFT_PX, TRUTH, shifted_frames  # noqa: E402
from harness.recordings import write_recording  # noqa: E402
from harness.worker import running_worker  # noqa: E402

DEFAULT_OUT = REPO / "tests" / "apps" / "alerts" / "data" / "plate_clip_detections.json"
MODEL = "yolox_nano"


def record(base_url: str, min_confidence: float) -> tuple[list[list[dict]], int, int]:
    """Per frame: [{"label", "score", "box", "plate"}, ...] as the worker answered."""
    session = requests.Session()
    headers = {
        "Content-Type": "image/jpeg",
        "X-Amzn-SageMaker-Custom-Attributes": (
            f"application_type=license-plates,min_confidence={min_confidence:g}"
        ),
    }
    frames: list[list[dict]] = []
    width = height = 0
    for jpeg in shifted_frames():
        answer = session.post(f"{base_url}/invocations", data=jpeg, headers=headers, timeout=60)
        answer.raise_for_status()
        body = answer.json()
        width, height = body["width"], body["height"]
        frames.append(
            [
                {
                    "label": name[0],
                    "score": round(float(score[0]), 4),
                    "box": [round(float(c), 1) for c in box],
                    "plate": plate,
                }
                for box, score, name, plate in zip(
                    body["bbox_coords"],
                    body["bbox_scores"],
                    body["class_names"],
                    body["plates"],
                    strict=True,
                )
            ]
        )
    return frames, width, height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--min-confidence", type=float, default=0.25)
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as logs, running_worker(Path(logs), MODEL) as (_, url):
        frames, width, height = record(url, args.min_confidence)
    head = {
        "image": TRUTH.image.name,
        "truth": TRUTH.text,
        "frames_count": FRAMES,
        "shift_px": SHIFT_PX,
        "frame_interval_s": 0.2,
        "model": MODEL,
        "service": "license-plates",
        "min_confidence": args.min_confidence,
        "width": width,
        "height": height,
    }
    write_recording(args.out, head, frames)
    print(f"{len(frames)} frames in {time.monotonic() - started:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
