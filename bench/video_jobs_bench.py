"""How fast a stored clip is analysed: media seconds per wall second end to end, with the split
between decoding and inference, and the CPU seconds each part spends per media second (the
figure that holds on a machine other work is loading).

    .venv/bin/python bench/video_jobs_bench.py [--fps 2] [--chunk-s 60] [--concurrency 2]
        [--rounds 2] [--before DIR] [--postgres] [--model NAME]

The shared clip (139.4 s, 768x432 H.264 at 10 fps), a model on ONNX Runtime with the worker's
CPU defaults (one single-threaded lane per core): by default the worker's own default model
(WorkerSettings.model, DEIMv2-Femto), which a deployment serves unless told otherwise;
`--model yolox_nano` is the tests' model. Sampled at --fps:

1. decode: apps/alerts/video_jobs/decode.py alone, chunk by chunk as the tasks do (FFmpeg
   decoding, and the JPEG encoding of the sampled frames that go to the worker);
2. inference: those JPEGs sent to a real worker process through analysis.inferred and the
   portal's inference function (apps/detection/video_frames.py), as --concurrency chunk tasks
   would send them;
3. end to end: a real portal (gunicorn), a prefork Celery worker taking --concurrency chunks
   at once and the worker: from the upload's 202 to the job's `succeeded` (upload excluded),
   with the CPU of the Celery processes, the worker and the portal over that time.

--before DIR runs the end-to-end part also on another checkout (an earlier commit exported
with `git archive REV | tar -x -C DIR`), alternating with this one, on the same worker.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")
os.environ.setdefault("IPCAI_MODEL_DIR", str(REPO.parent / "shared" / "models"))

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402

from apps.alerts.video_jobs import analysis, decode  # noqa: E402
from apps.alerts.video_jobs.chunking import plan_chunks  # noqa: E402
from apps.detection.video_frames import detect_video_frames  # noqa: E402
from gpu_worker.config import WorkerSettings  # noqa: E402
from harness.camera_clip import CLIP  # noqa: E402
from harness.polling import eventually  # noqa: E402
from harness.portal import running_portal  # noqa: E402
from harness.processes import ServerProcess  # noqa: E402
from harness.worker import running_worker  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
PG_URL = "postgres://postgres@127.0.0.1:5432/ipcai"


def cpu_of(pids: set[int]) -> float:
    """utime + stime (all threads) of these processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def tree_of(root: int) -> set[int]:
    """A process and its descendants (gunicorn's master and workers, Celery's pool)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except OSError:
                continue
    found = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def sampled_batches(fps: float, chunk_s: float, batch: int) -> Iterator[list[decode.SampledFrame]]:
    info = decode.probe(CLIP)
    for plan in plan_chunks(info.duration_s, fps, chunk_s):
        yield from decode.sampled_frames(
            CLIP, fps=fps, clip_fps=info.fps, first_sample=plan.first_sample,
            end_sample=plan.end_sample, batch_size=batch, stats=decode.DecodeStats(),
        )  # fmt: skip


def decode_all(fps: float, chunk_s: float, batch: int) -> tuple[list[list[bytes]], float, float]:
    """The sampled JPEGs in batches; wall and CPU seconds of decoding them."""
    started, cpu = time.perf_counter(), time.process_time()
    batches = [[f.jpeg for f in b] for b in sampled_batches(fps, chunk_s, batch)]
    return batches, time.perf_counter() - started, time.process_time() - cpu


def infer_all(batches: list[list[bytes]], tasks: int) -> float:
    """Wall seconds to have every batch answered, `tasks` senders each keeping
    analysis.BATCHES_IN_FLIGHT batches at the worker, as that many chunk tasks do."""

    def run(part: list[bytes]) -> list[dict]:
        return [dict(a) for a in detect_video_frames(part, ["persons-detection"], 0.5, "")]

    def sender(mine: list[list[bytes]]) -> None:
        for _ in analysis.inferred(iter(mine), run, analysis.BATCHES_IN_FLIGHT):
            pass

    started = time.perf_counter()
    with ThreadPoolExecutor(tasks) as pool:
        list(pool.map(sender, [batches[i::tasks] for i in range(tasks)]))
    return time.perf_counter() - started


def pid_of(server: ServerProcess) -> int:
    assert server.process is not None
    return server.process.pid


def spawn_celery(tree: Path, env: dict[str, str], folder: Path, concurrency: int):
    log = open(folder / f"celery-{uuid.uuid4().hex[:6]}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q",
         env["IPCAI_CELERY_QUEUE"], "--pool", "prefork", "--concurrency", str(concurrency),
         "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
        cwd=tree, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    log_path = Path(log.name)
    eventually(lambda: b"ready." in log_path.read_bytes(), 60, "the Celery worker")
    return process


def end_to_end(
    tree: Path, worker: ServerProcess, worker_url: str, args: argparse.Namespace, folder: Path
) -> dict[str, float]:
    """Wall seconds from 202 to succeeded, and CPU seconds of each process group meanwhile."""
    folder.mkdir(parents=True)
    with running_portal(
        folder, worker_url, tree=tree,
        IPCAI_ARCHIVE_URL=f"file://{folder / 'archive'}",
        IPCAI_EVENT_SPOOL_DIR=str(folder / "spool"),
        IPCAI_VIDEO_WORK_DIR=str(folder / "work"),
        IPCAI_VIDEO_CHUNK_S=str(args.chunk_s),
    ) as portal:  # fmt: skip
        celery = spawn_celery(tree, portal.env, folder, args.concurrency)
        try:
            key = portal.create_tenant("bench")
            with CLIP.open("rb") as clip:
                response = requests.post(
                    f"{portal.base_url}/api/v1/video-jobs",
                    files={"file": (CLIP.name, clip)},
                    data={"fps": str(args.fps)},
                    headers={"x-api-key": key},
                    timeout=120,
                )
            assert response.status_code == 202, response.text
            celery_pids = tree_of(celery.pid)
            portal_pids = tree_of(pid_of(portal.server))
            worker_pid = {pid_of(worker)}
            before = (cpu_of(celery_pids), cpu_of(worker_pid), cpu_of(portal_pids))
            started = time.perf_counter()
            url = f"{portal.base_url}/api/v1/video-jobs/{response.json()['id']}"

            def done() -> dict | None:
                job = requests.get(url, headers={"x-api-key": key}, timeout=30).json()
                return job if job["status"] in {"succeeded", "failed"} else None

            job = eventually(done, 900, "the job")
            elapsed = time.perf_counter() - started
            after = (cpu_of(celery_pids), cpu_of(worker_pid), cpu_of(portal_pids))
            assert isinstance(job, dict) and job["status"] == "succeeded", job
            return {
                "wall": elapsed,
                "events": len(job["events"]),
                "celery": after[0] - before[0],
                "worker": after[1] - before[1],
                "portal": after[2] - before[2],
            }
        finally:
            os.killpg(celery.pid, signal.SIGTERM)
            try:
                celery.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(celery.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--chunk-s", type=float, default=settings.IPCAI_VIDEO_CHUNK_S)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--before", type=Path, help="an earlier checkout, run side by side")
    parser.add_argument("--postgres", action="store_true", help=f"portals on {PG_URL}")
    parser.add_argument("--model", default=WorkerSettings.model, help="the worker's model")
    args = parser.parse_args()
    if args.postgres:
        os.environ["DATABASE_URL"] = PG_URL  # running_portal makes a fresh database there
    batch = settings.IPCAI_VIDEO_BATCH_FRAMES
    media = decode.probe(CLIP).duration_s
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}; clip {media:.1f} s at "
          f"{args.fps} fps, {args.chunk_s:.0f} s chunks, {args.concurrency} chunk tasks at once, "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}; model {args.model}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        batches, decode_s, decode_cpu = decode_all(args.fps, args.chunk_s, batch)
        frames = sum(map(len, batches))
        print(
            f"decode: {frames} frames in {decode_s:.2f} s wall, {decode_cpu:.2f} s CPU "
            f"({1000 * decode_cpu / frames:.1f} ms a frame, {decode_cpu / media:.3f} CPU s per "
            f"media s): {media / decode_s:.0f}x real time"
        )
        with running_worker(folder, args.model) as (worker, worker_url):
            settings.IPCAI_WORKER_URL = worker_url
            infer_all(batches[:4], 1)  # warm up
            cpu = cpu_of({pid_of(worker)})
            infer_s = infer_all(batches, args.concurrency)
            infer_cpu = cpu_of({pid_of(worker)}) - cpu
            print(
                f"inference: {frames} frames in {infer_s:.2f} s wall, worker {infer_cpu:.2f} s "
                f"CPU ({1000 * infer_cpu / frames:.1f} ms a frame, {infer_cpu / media:.3f} CPU s "
                f"per media s): {media / infer_s:.1f}x real time"
            )
            trees = [("this tree", REPO)] + ([("before", args.before)] if args.before else [])
            for round_ in range(args.rounds):
                order = trees if round_ % 2 == 0 else trees[::-1]
                for name, tree in order:
                    got = end_to_end(tree, worker, worker_url, args, folder / uuid.uuid4().hex)
                    cpu = got["celery"] + got["worker"] + got["portal"]
                    print(f"end to end, {name}: {got['events']:.0f} events in {got['wall']:.2f} s: "
                          f"**{media / got['wall']:.1f}x real time**; CPU {cpu:.2f} s = "
                          f"{cpu / media:.3f} s per media s (Celery {got['celery']:.2f}, worker "
                          f"{got['worker']:.2f}, portal {got['portal']:.2f}); two idle cores "
                          f"would give {2 * media / cpu:.0f}x; "
                          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(f"load after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
