"""Low-load latency and loaded throughput, before and after a change, one and two models.

    .venv/bin/python bench/models_bench.py [--before cad695d] [--rounds 3]

Every worker compared runs at once, side by side, and is driven in turn, so a machine shared
with other jobs slows them alike: the worker as of `--before` (extracted with `git archive`,
run from its own folder), the current worker serving one model, the current worker serving
two (`IPCAI_MODELS=deimv2_femto,yolox_nano`) with all traffic on the default, and the same
two-model worker with 40 clients on each model at once; plus the current one-model worker
without its all-cores session (`IPCAI_IDLE_THREADS=1`), to show what that session alone does.
- Low load: one request at a time, to each worker in turn (a round-robin of single requests,
  never two in flight), timed in Python; p50 per worker over all rounds.
- Load: `ab -k -c 80` on each worker in turn, `--rounds` times: req/s, p50 / p99, and the
  worker's CPU time per request (from /proc, which holds up when other jobs share the machine).
Both use the seed's JSON body. First, the bare model's lone inference on one thread and on
every core (spinning or not), interleaved: the design question behind the all-cores session.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ab import AbResult, ensure_ab, run_ab  # noqa: E402
from bench.worker_bench import (  # noqa: E402
    bare_lanes,
    extract_worker,
    process_cpu_seconds,
    worker_process,
)
from gpu_worker.backends import BackendOptions  # noqa: E402
from gpu_worker.config import available_cpus  # noqa: E402

SHARED = REPO.parent / "shared"
MODELS_HEADER = "X-Amzn-SageMaker-Custom-Attributes"
JSON = "application/json"


@dataclass
class Setup:
    label: str
    cwd: Path
    env: dict[str, str]
    mixed: tuple[str, ...] = ()  # models loaded at once, 80 clients split over them


@dataclass
class Measured:
    lone_ms: list[float] = field(default_factory=list)
    loaded: list[AbResult] = field(default_factory=list)


def lone_round_robin(ports: list[int], body: bytes, requests: int) -> list[list[float]]:
    """`requests` single requests per worker, one worker after another, never two at once."""
    connections = [http.client.HTTPConnection("127.0.0.1", port) for port in ports]
    times: list[list[float]] = [[] for _ in ports]
    for _ in range(requests):
        for index, connection in enumerate(connections):
            start = time.perf_counter()
            connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
            connection.getresponse().read()
            times[index].append((time.perf_counter() - start) * 1000)
    for connection in connections:
        connection.close()
    return times


def bare_lone_p50_ms(model: str, model_dir: Path, runs: int = 60) -> dict[str, float]:
    """A lone inference of the bare model on one thread vs every core (spinning or not),
    interleaved: the design question behind the all-cores session."""
    cpus = available_cpus()
    variants = {
        "1 thread": BackendOptions(threads=1),
        f"{cpus} threads, spinning": BackendOptions(threads=cpus),
        f"{cpus} threads, not spinning (served)": BackendOptions(threads=cpus, spinning=False),
    }
    lanes, sample = bare_lanes(model, model_dir, list(variants.values()))
    times: list[list[float]] = [[] for _ in lanes]
    for _ in range(runs):
        for index, lane in enumerate(lanes):
            start = time.perf_counter()
            lane.infer(sample)
            times[index].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(t) for name, t in zip(variants, times, strict=True)}


def loaded_run(url: str, body: Path, setup: Setup, n: int, pid: int) -> AbResult:
    """80 clients on the default model, or split evenly over `setup.mixed` at once."""
    cpu_before = process_cpu_seconds(pid)
    if not setup.mixed:
        result = run_ab(setup.label, url, body, "application/json", n, 80)
    else:
        share = 80 // len(setup.mixed)
        parts: list[AbResult] = []

        def one(model: str) -> None:
            header = [f"{MODELS_HEADER}: model={model}"]
            parts.append(
                run_ab(model, url, body, "application/json", n // 2, share, headers=header)
            )

        threads = [threading.Thread(target=one, args=(m,)) for m in setup.mixed]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result = AbResult(
            setup.label,
            sum(p.rps for p in parts),
            max(p.p50 for p in parts),
            max(p.p95 for p in parts),
            max(p.p99 for p in parts),
            max(p.max_ms for p in parts),
            sum(p.failed for p in parts),
            sum(p.non_2xx for p in parts),
        )
    result.cpu_ms = (process_cpu_seconds(pid) - cpu_before) * 1000 / n
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="cad695d", help="git ref of the 'before' worker")
    parser.add_argument("--model", default="deimv2_femto")
    parser.add_argument("--second", default="yolox_nano")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400, help="per ab run")
    parser.add_argument("--lone", type=int, default=100, help="single requests per worker")
    args = parser.parse_args()
    ensure_ab()
    model_dir = Path(os.environ.get("IPCAI_MODEL_DIR", SHARED / "models"))
    both = f"{args.model},{args.second}"
    bare = {m: bare_lone_p50_ms(m, model_dir) for m in (args.model, args.second)}
    with tempfile.TemporaryDirectory() as tmp:
        before_dir = extract_worker(args.before, Path(tmp) / "before")
        common = {"IPCAI_MODEL_DIR": str(model_dir)}
        setups = [
            Setup(
                f"before ({args.before}), 1 model",
                before_dir,
                {**common, "IPCAI_MODEL": args.model},
            ),
            Setup("after, 1 model", REPO, {**common, "IPCAI_MODELS": args.model}),
            Setup(
                "after, 1 model, no all-cores session (IPCAI_IDLE_THREADS=1)",
                REPO,
                {**common, "IPCAI_MODELS": args.model, "IPCAI_IDLE_THREADS": "1"},
            ),
            Setup("after, 2 models, all on the default", REPO, {**common, "IPCAI_MODELS": both}),
            Setup(
                "after, 2 models, 40 clients each",
                REPO,
                {**common, "IPCAI_MODELS": both},
                mixed=(args.model, args.second),
            ),
        ]
        body = Path(tmp) / "post_worker.json"
        seed = (SHARED / "images" / "post_data.txt").read_text()
        body.write_text(seed.replace("image_base64_enc", "image_bytes"))
        results = {s.label: Measured() for s in setups}
        with ExitStack() as stack:
            workers = []
            for setup in setups:
                env = {"IPCAI_BACKEND": "onnxruntime", "PYTHONPATH": str(setup.cwd), **setup.env}
                log_path = Path(tmp) / f"{len(workers)}.log"
                workers.append(stack.enter_context(worker_process(env, log_path, cwd=setup.cwd)))
            for _, port in workers:
                run_ab("warm-up", f"http://127.0.0.1:{port}/invocations", body, JSON, 50, 4)
            lone = lone_round_robin([port for _, port in workers], body.read_bytes(), args.lone)
            for setup, times in zip(setups, lone, strict=True):
                results[setup.label].lone_ms = times
            for _ in range(args.rounds):
                for setup, (server, port) in zip(setups, workers, strict=True):
                    url = f"http://127.0.0.1:{port}/invocations"
                    result = loaded_run(url, body, setup, args.requests, server.process.pid)
                    results[setup.label].loaded.append(result)
                    print(
                        f"{setup.label}: {result.rps:.1f} req/s, {result.cpu_ms:.1f} CPU ms/req",
                        file=sys.stderr,
                        flush=True,
                    )
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {platform.node()} · "
        f"{available_cpus()} CPUs · default model {args.model} · seed JSON body · "
        f"{args.lone} lone requests each, round-robin; {args.rounds} ab rounds, in turn\n"
    )
    for model, medians in bare.items():
        ways = "; ".join(f"{name} {value:.1f} ms" for name, value in medians.items())
        print(f"Bare {model}, a lone inference, p50: {ways}\n")
    print(
        "| worker | p50 ms, 1 client | p90 ms, 1 client | req/s, 80 clients (per round) | "
        "p50 / p99 ms, 80 clients | errors | worker CPU ms/req (per round) |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, measured in results.items():
        lone = sorted(measured.lone_ms)
        p90 = lone[int(len(lone) * 0.9)]
        rps = " / ".join(f"{r.rps:.1f}" for r in measured.loaded)
        tails = " · ".join(f"{r.p50} / {r.p99}" for r in measured.loaded)
        errors = sum(r.errors for r in measured.loaded)
        cpu = " / ".join(f"{r.cpu_ms:.1f}" for r in measured.loaded)
        print(
            f"| {label} | {statistics.median(lone):.1f} | {p90:.1f} | {rps} | {tails} | "
            f"{errors} | {cpu} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
