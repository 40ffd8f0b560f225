"""The worker's CPU per request outside inference, an older worker and this one side by side.

    .venv/bin/python bench/worker_cpu_bench.py --before ../before/tree [--model deimv2_femto]
        [--requests 1000] [--concurrency 80] [--rounds 1]

`--before` is another checkout (say a git worktree of main); its `gpu_worker` runs with this
.venv's Python, with that checkout as its working directory. Both workers run at once (the
idle one costs nothing: its lanes are single-threaded and do not spin) and are driven in
turn, so each sees the same machine. Per round, for the raw JPEG body and then the seed's JSON
body (`shared/images/post_data.txt`, field renamed to `image_bytes`): ApacheBench
`ab -k -c C -n N` against the older worker, then this one, reading each worker process's CPU
time from /proc before and after (all its threads: HTTP, JSON, decode, inference, ...).

The bare model, measured before and after the loads to bracket drift:
- CPU per inference of one single-threaded ONNX Runtime session on persons.jpg, already
  preprocessed (thread CPU time over a fixed count). CPU per request outside inference is
  the worker's CPU per request minus this.
- inferences/s of one single-threaded session per core side by side (bench/worker_bench.py's
  bare model): the worker's req/s over this is the worker-vs-bare throughput ratio.
This worker also reports its own split in /metrics: its lanes' CPU inside the model's infer
calls, so "outside inference" can be read without the bare model, in the same process.
CPU time, not wall time: it holds up on a machine shared with other jobs, req/s does not.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ab import ensure_ab, run_ab  # noqa: E402
from bench.worker_bench import (  # noqa: E402
    bare_lanes,
    bare_model,
    process_cpu_seconds,
    worker_process,
)
from gpu_worker.backends.base import BackendOptions  # noqa: E402
from gpu_worker.config import WorkerSettings, available_cpus  # noqa: E402
from harness.prometheus import metric  # noqa: E402

SHARED = REPO.parent / "shared"
PERSONS = SHARED / "images" / "persons.jpg"


@dataclass
class Load:
    worker: str
    body: str
    rps: float
    errors: int
    cpu_ms: float  # the worker process's CPU per request
    inference_cpu_ms: float | None  # its lanes' CPU inside infer per request (/metrics)
    loop_cpu_ms: float  # its main thread's CPU per request: the event loop (HTTP, batcher)


def bare_cpu_ms(model: str, model_dir: Path, inferences: int) -> float:
    """CPU ms per inference of one single-threaded session (thread CPU time)."""
    (lane,), sample = bare_lanes(model, model_dir, [BackendOptions(threads=1)])
    started = time.thread_time()
    for _ in range(inferences):
        lane.infer(sample)
    return (time.thread_time() - started) * 1000 / inferences


def main_thread_cpu_seconds(pid: int) -> float:
    """utime + stime of a process's main thread (the worker's event loop), from /proc."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def inference_cpu_s(port: int) -> float | None:
    """The worker's ipcai_worker_inference_cpu_seconds_total, if it reports one."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as answer:
        text = answer.read().decode()
    if "ipcai_worker_inference_cpu_seconds" not in text:
        return None
    return metric(text, "ipcai_worker_inference_cpu_seconds_total")


def drive(name: str, label: str, server, port: int, body: Path, content_type: str, args) -> Load:
    url = f"http://127.0.0.1:{port}/invocations"
    pid = server.process.pid
    cpu_before, inference_before = process_cpu_seconds(pid), inference_cpu_s(port)
    loop_before = main_thread_cpu_seconds(pid)
    result = run_ab(f"{name}: {label}", url, body, content_type, args.requests, args.concurrency)
    cpu_ms = (process_cpu_seconds(pid) - cpu_before) * 1000 / args.requests
    loop_ms = (main_thread_cpu_seconds(pid) - loop_before) * 1000 / args.requests
    inference_after = inference_cpu_s(port)
    inference_ms = None
    if inference_before is not None and inference_after is not None:
        inference_ms = (inference_after - inference_before) * 1000 / args.requests
    return Load(name, label, result.rps, result.errors, cpu_ms, inference_ms, loop_ms)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the older checkout")
    parser.add_argument("--model", default="deimv2_femto")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--bare-inferences", type=int, default=200)
    parser.add_argument("--bare-seconds", type=float, default=10.0)
    parser.add_argument("--bodies", default="raw,json", help="raw and/or json")
    args = parser.parse_args()
    ensure_ab()
    settings = WorkerSettings.from_env()
    model_dir = settings.model_dir if "IPCAI_MODEL_DIR" in os.environ else SHARED / "models"
    cpus = available_cpus()
    env = {
        "IPCAI_MODEL_DIR": str(model_dir),
        "IPCAI_MODEL": args.model,
        "IPCAI_BACKEND": "onnxruntime",
    }
    loads: list[Load] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        json_body = tmp / "post_worker.json"
        seed = (SHARED / "images" / "post_data.txt").read_text()
        json_body.write_text(seed.replace("image_base64_enc", "image_bytes"))
        bodies = [
            body
            for key, body in (
                ("raw", ("raw JPEG", PERSONS, "image/jpeg")),
                ("json", ("seed JSON", json_body, "application/json")),
            )
            if key in args.bodies.split(",")
        ]
        bare_cpu = [bare_cpu_ms(args.model, model_dir, args.bare_inferences)]
        bare_rps = [bare_model(args.model, model_dir, args.bare_seconds, cpus, 1).rps]
        argv = [sys.executable, "-m", "gpu_worker"]
        with (
            worker_process(env, tmp / "before.log", argv, cwd=args.before) as old,
            worker_process(env, tmp / "after.log", argv) as new,
        ):
            workers = (("before", *old), ("after", *new))
            for name, _, port in workers:  # warm-up: first requests allocate and fault in
                url = f"http://127.0.0.1:{port}/invocations"
                run_ab(f"{name} warm-up", url, PERSONS, "image/jpeg", 100, 8)
            for _ in range(args.rounds):
                for label, body, content_type in bodies:
                    for name, server, port in workers:
                        loads.append(drive(name, label, server, port, body, content_type, args))
        bare_cpu.append(bare_cpu_ms(args.model, model_dir, args.bare_inferences))
        bare_rps.append(bare_model(args.model, model_dir, args.bare_seconds, cpus, 1).rps)
    bare = sum(bare_cpu) / 2
    rps = sum(bare_rps) / 2
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {platform.node()} · {cpus} "
        f"CPUs · load average {os.getloadavg()[0]:.1f} · model {args.model} · "
        f"ab -k -c {args.concurrency} -n {args.requests} · before: {args.before}\n"
    )
    print(
        f"Bare model: one single-threaded session {bare_cpu[0]:.2f} / {bare_cpu[1]:.2f} CPU ms "
        f"per inference before / after the loads (mean {bare:.2f}); {cpus} sessions x 1 "
        f"thread {bare_rps[0]:.1f} / {bare_rps[1]:.1f} inferences/s (mean {rps:.1f})\n"
    )
    print(
        "| worker | body | req/s | errors | worker / bare req/s | worker CPU ms/req "
        "| outside inference: minus bare ms | in-process inference CPU ms/req "
        "| outside inference: minus in-process ms | event loop thread CPU ms/req |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for load in loads:
        in_process = "n/a" if load.inference_cpu_ms is None else f"{load.inference_cpu_ms:.2f}"
        outside_in_process = (
            "n/a" if load.inference_cpu_ms is None else f"{load.cpu_ms - load.inference_cpu_ms:.2f}"
        )
        print(
            f"| {load.worker} | {load.body} | {load.rps:.1f} | {load.errors} | "
            f"{load.rps / rps:.2f} | {load.cpu_ms:.2f} | **{load.cpu_ms - bare:.2f}** | "
            f"{in_process} | {outside_in_process} | {load.loop_cpu_ms:.2f} |"
        )
    if args.rounds > 1:
        print_medians(loads)
    return 0


def print_medians(loads: list[Load]) -> None:
    """Per body, the median over rounds of each worker's CPU per request and of the
    after-minus-before difference within a round (the pairs ran back to back)."""
    print(
        "\n| body | rounds | median CPU ms/req, before | after | median of after - before "
        "| median event loop ms/req, before | after |"
    )
    print("|---|---|---|---|---|---|---|")
    for body in dict.fromkeys(load.body for load in loads):
        before = [load.cpu_ms for load in loads if load.body == body and load.worker == "before"]
        after = [load.cpu_ms for load in loads if load.body == body and load.worker == "after"]
        pairs = [b - a for a, b in zip(before, after, strict=True)]
        loops = {
            worker: statistics.median(
                load.loop_cpu_ms for load in loads if load.body == body and load.worker == worker
            )
            for worker in ("before", "after")
        }
        print(
            f"| {body} | {len(pairs)} | {statistics.median(before):.2f} | "
            f"{statistics.median(after):.2f} | **{statistics.median(pairs):+.2f}** | "
            f"{loops['before']:.2f} | {loops['after']:.2f} |"
        )


if __name__ == "__main__":
    sys.exit(main())
