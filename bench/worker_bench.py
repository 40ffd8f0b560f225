"""Worker throughput: the bare model run its fastest way vs the HTTP server, in one run.

    .venv/bin/python bench/worker_bench.py [--model yolox_nano] [--requests 1000] [--concurrency 80]

1. Bare model: one single-threaded ONNX Runtime session per core, side by side on threads, on
   the seed's persons.jpg (already preprocessed), for a fixed time → inferences/s. This is the
   fastest way to run these models on this CPU (shared/models/README.md).
2. Server: `python -m gpu_worker` on a free port, then ApacheBench (`ab`, Debian's
   apache2-utils) with the seed's load-test body (`shared/images/post_data.txt`, its
   `image_base64_enc` field renamed to the worker's `image_bytes`) and with the raw JPEG.
Prints a Markdown table for docs/BENCHMARKS.md. Speed is only ever measured here, never in tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ab import AbResult, ensure_ab, run_ab  # noqa: E402
from gpu_worker.backends.base import BackendOptions  # noqa: E402
from gpu_worker.backends.onnxruntime import OnnxRuntimeBackend  # noqa: E402
from gpu_worker.config import WorkerSettings, available_cpus  # noqa: E402
from gpu_worker.families import create_family  # noqa: E402
from gpu_worker.images import decode_image, read_header  # noqa: E402
from gpu_worker.manifest import get_spec, verified_model_path  # noqa: E402
from harness.processes import ServerProcess, free_port, http_ok  # noqa: E402

SHARED = REPO.parent / "shared"
PERSONS = SHARED / "images" / "persons.jpg"


def result_row(result: AbResult, bare: Bare) -> str:
    return (
        f"| {result.label} | {result.rps:.1f} | {result.p50} | {result.p95} | {result.p99} | "
        f"{result.max_ms} | {result.errors} | {result.rps / bare.rps:.2f} | "
        f"{result.cpu_ms:.1f} | {bare.cpu_ms / result.cpu_ms:.2f} |"
    )


@dataclass
class Bare:
    rps: float
    cpu_ms: float  # CPU time per inference, all session threads together


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bare_model_rps(
    model: str, model_dir: Path, seconds: float, sessions: int, threads: int
) -> float:
    """Inferences/s of `sessions` sessions with `threads` intra-op threads each, in parallel."""
    return bare_model(model, model_dir, seconds, sessions, threads).rps


def bare_lanes(
    model: str, model_dir: Path, options: list[BackendOptions]
) -> tuple[list[OnnxRuntimeBackend], dict]:
    """One warmed ONNX Runtime session per options entry, and persons.jpg preprocessed."""
    spec = get_spec(model, model_dir)
    path = verified_model_path(spec, model_dir)
    family = create_family(spec)
    data = PERSONS.read_bytes()
    header = read_header(data, 10**9)
    sample = family.preprocess(decode_image(data, header).pixels).inputs
    lanes = []
    for lane_options in options:
        lane = OnnxRuntimeBackend(lane_options)
        lane.load(path)
        lane.warm_up(sample)
        lanes.append(lane)
    return lanes, sample


def bare_model(model: str, model_dir: Path, seconds: float, sessions: int, threads: int) -> Bare:
    """Throughput and CPU cost per inference of the bare model, its sessions side by side."""
    lanes, sample = bare_lanes(model, model_dir, [BackendOptions(threads=threads)] * sessions)
    counts = [0] * sessions
    stop = time.perf_counter() + seconds

    def run(index: int) -> None:
        while time.perf_counter() < stop:
            lanes[index].infer(sample)
            counts[index] += 1

    started, cpu_started = time.perf_counter(), time.process_time()
    workers = [threading.Thread(target=run, args=(i,)) for i in range(sessions)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done = sum(counts)
    cpu_ms = (time.process_time() - cpu_started) * 1000 / done
    return Bare(done / (time.perf_counter() - started), cpu_ms)


def extract_worker(ref: str, into: Path) -> Path:
    """gpu_worker/ as of git `ref`, unpacked under `into` (run it with cwd and PYTHONPATH
    there): the 'before' side of a before/after benchmark, without touching the checkout."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", ref, "gpu_worker"], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


@contextmanager
def worker_process(
    env: dict[str, str], log_path: Path, argv: list[str] | None = None, cwd: Path = REPO
) -> Iterator[tuple[ServerProcess, int]]:
    """A worker (`python -m gpu_worker`, or `argv`) on a free loopback port with quiet logs,
    yielded with its port once /ping answers; stopped with SIGTERM afterwards."""
    port = free_port()
    server = ServerProcess(
        argv=argv or [sys.executable, "-m", "gpu_worker"],
        cwd=cwd,
        env={"PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "WARNING", **env},
        log_path=log_path,
    ).start()
    try:
        server.wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/ping"), timeout=180)
        yield server, port
    finally:
        server.stop()


def run_server_loads(args, model_dir: Path, tmp: Path, json_body: Path, pipeline: str):
    """Start a worker with IPCAI_PIPELINE=pipeline, warm it, then the two ab loads."""
    env = {
        "IPCAI_MODEL_DIR": str(model_dir),
        "IPCAI_MODEL": args.model,
        "IPCAI_BACKEND": "onnxruntime",
        "IPCAI_PIPELINE": pipeline,
    }
    with worker_process(env, tmp / f"worker-{pipeline}.log") as (server, port):
        url = f"http://127.0.0.1:{port}/invocations"
        run_ab("warm-up", url, json_body, "application/json", 100, 8)
        n, c = args.requests, args.concurrency
        results = []
        assert server.process is not None  # started by worker_process
        pid = server.process.pid
        for label, body, content_type in (
            ("seed JSON body (base64)", json_body, "application/json"),
            ("raw image/jpeg body", PERSONS, "image/jpeg"),
        ):
            cpu_before = process_cpu_seconds(pid)
            result = run_ab(f"{pipeline}: {label}", url, body, content_type, n, c)
            result.cpu_ms = (process_cpu_seconds(pid) - cpu_before) * 1000 / n
            results.append(result)
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="yolox_nano")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=80)
    parser.add_argument("--bare-seconds", type=float, default=15.0)
    parser.add_argument(
        "--pipelines",
        default="auto",
        help="IPCAI_PIPELINE values to compare, e.g. inline,pipelined",
    )
    args = parser.parse_args()
    ensure_ab()
    settings = WorkerSettings.from_env()
    model_dir = settings.model_dir if "IPCAI_MODEL_DIR" in os.environ else SHARED / "models"
    cpus = available_cpus()

    pipelines = args.pipelines.split(",")
    results: list[AbResult] = []
    with tempfile.TemporaryDirectory() as tmp:
        json_body = Path(tmp) / "post_worker.json"
        seed_body = (SHARED / "images" / "post_data.txt").read_text()
        json_body.write_text(seed_body.replace("image_base64_enc", "image_bytes"))
        bare_before = bare_model(args.model, model_dir, args.bare_seconds, cpus, 1)
        for pipeline in pipelines:
            results += run_server_loads(args, model_dir, Path(tmp), json_body, pipeline)
        bare_after = bare_model(args.model, model_dir, args.bare_seconds, cpus, 1)
        bare_one_session = bare_model_rps(args.model, model_dir, args.bare_seconds, 1, cpus)
    bare = Bare(
        (bare_before.rps + bare_after.rps) / 2, (bare_before.cpu_ms + bare_after.cpu_ms) / 2
    )
    print(
        f"\n{time.strftime('%Y-%m-%d')} · {platform.node()} · {cpus} CPUs · "
        f"{platform.processor() or platform.machine()} · model {args.model} · "
        f"ab -k -c {args.concurrency} -n {args.requests}\n"
    )
    print(
        f"Bare model, {cpus} sessions x 1 thread: {bare_before.rps:.1f} before, "
        f"{bare_after.rps:.1f} after the server runs (mean {bare.rps:.1f} inferences/s, "
        f"{bare.cpu_ms:.1f} CPU ms each); 1 session x {cpus} threads: {bare_one_session:.1f}\n"
    )
    print(
        "| load | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | server / bare "
        "| server CPU ms/req | bare CPU ms / server CPU ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for result in results:
        print(result_row(result, bare))
    return 0


if __name__ == "__main__":
    sys.exit(main())
