"""Record the default model's person boxes for every frame of the shared clip, once, as the
fixture the tracker tests replay (tests/apps/alerts/data/clip_detections.json).

    IPCAI_MODEL_DIR=/work/shared/models .venv/bin/python bench/record_clip_detections.py \
        [--out tests/apps/alerts/data/clip_detections.json] [--min-confidence 0.25]

Starts a real worker (the default model, yolox_nano on ONNX Runtime) through the harness the
tests use and posts each frame of ../shared/videos/one-by-one-person-detection.mp4 as the
portal does (JPEG quality 80, the persons-detection service) to its /invocations. Boxes are
kept down to --min-confidence (below the portal's default 0.5) so a test can replay the clip
at other thresholds. Regenerate it when the default model, its decode or the clip changes.
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

from harness.camera_clip import CLIP, CLIP_FPS, _frames  # noqa: E402
from harness.recordings import write_recording  # noqa: E402
from harness.worker import running_worker  # noqa: E402

DEFAULT_OUT = REPO / "tests" / "apps" / "alerts" / "data" / "clip_detections.json"
MODEL = "yolox_nano"


def record(base_url: str, min_confidence: float) -> tuple[list[list[list[float]]], int, int]:
    """Per frame: [[x1, y1, x2, y2, score], ...] of the persons the worker found."""
    session = requests.Session()
    headers = {
        "Content-Type": "image/jpeg",
        "X-Amzn-SageMaker-Custom-Attributes": (
            f"application_type=persons-detection,min_confidence={min_confidence:g}"
        ),
    }
    frames: list[list[list[float]]] = []
    width = height = 0
    for index, jpeg in enumerate(_frames()):
        answer = session.post(f"{base_url}/invocations", data=jpeg, headers=headers, timeout=60)
        answer.raise_for_status()
        body = answer.json()
        width, height = body["width"], body["height"]
        frames.append(
            [
                [*map(float, box), round(float(score[0]), 4)]
                for box, score, name in zip(
                    body["bbox_coords"], body["bbox_scores"], body["class_names"], strict=True
                )
                if name[0] == "person"
            ]
        )
        if index % 200 == 0:
            print(f"frame {index}", file=sys.stderr)
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
        "clip": CLIP.name,
        "clip_fps": CLIP_FPS,
        "model": MODEL,
        "service": "persons-detection",
        "min_confidence": args.min_confidence,
        "width": width,
        "height": height,
    }
    # "frames": one list per clip frame, [x1, y1, x2, y2, score] per person.
    write_recording(args.out, head, frames)
    print(f"{len(frames)} frames in {time.monotonic() - started:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
