"""Which frames a job analyses, and how they are cut into chunks: plain arithmetic.

Sample k is the clip's first frame at or after media time k / fps. A chunk is a range of sample
numbers, so every sample belongs to exactly one chunk: no frame is analysed twice, and the
tracker, run once over all chunks' frames in media order (tasks.finish), sees the same sequence
a live camera sending at `fps` would. A visit crossing a chunk boundary is one track, hence one
event: chunks are stitched before tracking, not after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ChunkPlan:
    index: int
    first_sample: int
    end_sample: int  # exclusive
    start_s: float
    end_s: float


def sample_count(duration_s: float, fps: float) -> int:
    """Samples in a clip of `duration_s`: k / fps < duration_s."""
    if duration_s <= 0 or fps <= 0:
        return 0
    return max(1, math.ceil(duration_s * fps - 1e-9))


def sample_time(k: int, fps: float) -> float:
    return k / fps


def plan_chunks(duration_s: float, fps: float, chunk_s: float) -> list[ChunkPlan]:
    """Chunks of about `chunk_s` media seconds each (the last one shorter)."""
    total = sample_count(duration_s, fps)
    per_chunk = max(1, round(chunk_s * fps))
    plans = []
    for index, first in enumerate(range(0, total, per_chunk)):
        end = min(total, first + per_chunk)
        plans.append(
            ChunkPlan(
                index=index,
                first_sample=first,
                end_sample=end,
                start_s=sample_time(first, fps),
                end_s=min(duration_s, sample_time(end, fps)),
            )
        )
    return plans


def effective_fps(requested: float, clip_fps: float) -> float:
    """The sampling rate: what was asked, at most the clip's own rate."""
    return min(requested, clip_fps) if clip_fps > 0 else requested
