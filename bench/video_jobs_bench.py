"""How fast a stored clip is analysed: media seconds per wall second, with the split between
decoding and inference.

    .venv/bin/python bench/video_jobs_bench.py [--fps 2] [--chunk-s 60] [--concurrency 2]

The shared clip (139.4 s, 768x432 H.264 at 10 fps), the default model (yolox_nano on ONNX
Runtime, the worker's CPU defaults), sampled at --fps:

1. decode: apps/alerts/video_jobs/decode.py alone, chunk by chunk as the tasks do (FFmpeg
   decoding, and the JPEG encoding of the sampled frames that go to the worker);
2. inference: those JPEGs sent to a real worker process in batches of
   IPCAI_VIDEO_BATCH_FRAMES through the portal's own inference client (apps/detection);
3. end to end: a real portal (gunicorn), a prefork Celery worker taking --concurrency chunks at
   once and the worker: from the upload's 202 to the job's `succeeded` (upload excluded).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")
os.environ.setdefault("IPCAI_MODEL_DIR", str(REPO.parent / "shared" / "models"))

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402

from apps.alerts.video_jobs import decode  # noqa: E402
from apps.alerts.video_jobs.chunking import plan_chunks  # noqa: E402
from apps.detection.inference import HttpInferenceClient  # noqa: E402
from harness.camera_clip import CLIP  # noqa: E402
from harness.celery_processes import CeleryProcesses  # noqa: E402
from harness.polling import eventually  # noqa: E402
from harness.portal import running_portal  # noqa: E402
from harness.worker import running_worker  # noqa: E402


def decode_all(
    fps: float, chunk_s: float, batch: int
) -> tuple[list[bytes], float, decode.DecodeStats]:
    info = decode.probe(CLIP)
    stats = decode.DecodeStats()
    jpegs: list[bytes] = []
    started = time.perf_counter()
    for plan in plan_chunks(info.duration_s, fps, chunk_s):
        for frames in decode.sampled_frames(
            CLIP, fps=fps, clip_fps=info.fps, first_sample=plan.first_sample,
            end_sample=plan.end_sample, batch_size=batch, stats=stats,
        ):  # fmt: skip
            jpegs.extend(f.jpeg for f in frames)
    return jpegs, time.perf_counter() - started, stats


def infer_all(worker_url: str, jpegs: list[bytes], batch: int) -> float:
    from concurrent.futures import ThreadPoolExecutor

    client = HttpInferenceClient(
        worker_url, connect_timeout=5, read_timeout=60, pool_size=batch, queue_timeout=60
    )
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=batch) as pool:
        for start in range(0, len(jpegs), batch):
            part = jpegs[start : start + batch]
            list(pool.map(lambda j: client.detect(j, "image/jpeg", "persons-detection", 0.5), part))
    return time.perf_counter() - started


def end_to_end(
    worker_url: str, fps: float, chunk_s: float, concurrency: int, folder: Path
) -> float:
    with running_portal(
        folder, worker_url,
        IPCAI_ARCHIVE_URL=f"file://{folder / 'archive'}",
        IPCAI_EVENT_SPOOL_DIR=str(folder / "spool"),
        IPCAI_VIDEO_WORK_DIR=str(folder / "work"),
        IPCAI_VIDEO_CHUNK_S=str(chunk_s),
    ) as portal:  # fmt: skip
        celery = CeleryProcesses(portal.env, folder, concurrency=concurrency)
        celery.start_worker()
        try:
            key = portal.create_tenant("bench")
            with CLIP.open("rb") as clip:
                response = requests.post(
                    f"{portal.base_url}/api/v1/video-jobs",
                    files={"file": (CLIP.name, clip)},
                    data={"fps": str(fps)},
                    headers={"x-api-key": key},
                    timeout=120,
                )
            assert response.status_code == 202, response.text
            started = time.perf_counter()
            url = f"{portal.base_url}/api/v1/video-jobs/{response.json()['id']}"

            def done() -> dict | None:
                job = requests.get(url, headers={"x-api-key": key}, timeout=30).json()
                return job if job["status"] in {"succeeded", "failed"} else None

            job = eventually(done, 600, "the job")
            assert isinstance(job, dict)
            elapsed = time.perf_counter() - started
            assert job["status"] == "succeeded", job
            print(f"  end to end: {len(job['events'])} events")
            return elapsed
        finally:
            celery.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--chunk-s", type=float, default=settings.IPCAI_VIDEO_CHUNK_S)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    batch = settings.IPCAI_VIDEO_BATCH_FRAMES
    media = decode.probe(CLIP).duration_s
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; clip {media:.1f} s at {args.fps} fps")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        jpegs, decode_s, stats = decode_all(args.fps, args.chunk_s, batch)
        print(f"decode: {len(jpegs)} frames in {decode_s:.2f} s wall "
              f"(FFmpeg {stats.decode_s:.2f} s, JPEG {stats.encode_s:.2f} s, "
              f"{stats.frames_decoded} frames decoded, {stats.seeks} seeks): "
              f"{media / decode_s:.0f}x real time")  # fmt: skip
        with running_worker(folder) as (_, worker_url):
            infer_all(worker_url, jpegs[:16], batch)  # warm up
            infer_s = infer_all(worker_url, jpegs, batch)
            print(f"inference: {len(jpegs)} frames in {infer_s:.2f} s "
                  f"({1000 * infer_s / len(jpegs):.1f} ms a frame): "
                  f"{media / infer_s:.1f}x real time")  # fmt: skip
            total = end_to_end(worker_url, args.fps, args.chunk_s, args.concurrency, folder)
            print(f"end to end ({args.concurrency} chunk tasks at once): {total:.2f} s: "
                  f"{media / total:.1f}x real time")  # fmt: skip
        print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
