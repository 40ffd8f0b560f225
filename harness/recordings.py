"""Recorded detections (what the real worker answered for each frame of a clip), written as the
tests read them: one JSON document, its frames one per line, so that a re-recording after a
model or reader change shows as a small diff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


def write_recording(path: Path, head: dict[str, Any], frames: list[Any]) -> None:
    """`head`'s fields, then `"frames"`, one frame a line; checked to read back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [orjson.dumps(frame).decode() for frame in frames]
    path.write_text(
        orjson.dumps(head).decode()[:-1] + ',\n"frames": [\n' + ",\n".join(lines) + "\n]}\n"
    )
    orjson.loads(path.read_bytes())
