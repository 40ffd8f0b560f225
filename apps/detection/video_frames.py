"""Frames of a stored clip to the inference worker, for the video jobs of apps/alerts (a lower
floor, which calls this through settings.IPCAI_VIDEO_INFERENCE and so never imports it).

A batch's frames are sent at once, one request each on the client's pooled connections: the
worker's dynamic batcher (gpu_worker/batching.py) forms them into model batches, which fill on a
GPU; on a CPU the worker runs them one after another, so nothing is lost by sending them
together. Worker trouble raises InferenceError; the chunk's task retries it.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from apps.detection.inference import WorkerAnswer, get_inference_client

# Frames of one batch in flight at once (the client's pool bounds it too).
_MAX_PARALLEL = 8


def detect_video_frames(
    images: Sequence[bytes], application_types: Sequence[str], min_confidence: float, model: str
) -> list[WorkerAnswer]:
    """The worker's answer (seed-compatible lists, original pixels) for each JPEG, in order."""
    client = get_inference_client()
    kinds = "+".join(application_types)

    def one(image: bytes) -> WorkerAnswer:
        return client.detect(image, "image/jpeg", kinds, min_confidence, model=model)

    if len(images) == 1:
        return [one(images[0])]
    with ThreadPoolExecutor(max_workers=min(_MAX_PARALLEL, len(images))) as pool:
        return list(pool.map(one, images))
