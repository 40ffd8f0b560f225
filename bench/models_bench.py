"""Low-load latency and loaded throughput, before and after a change, one and two models.

    .venv/bin/python bench/models_bench.py [--before cad695d] [--rounds 2]

Side by side in one run, in alternating rounds (the machine drifts): the worker as of
`--before` (extracted with `git archive`, run from its own folder), the current worker serving
one model, the current worker serving two (`IPCAI_MODELS=deimv2_femto,yolox_nano`) with all
traffic on the default, and the same two-model worker with 40 clients on each model at once.
Per worker: p50 of 100 sequential requests timed in Python (the seed's JSON body), then
`ab -k -c 80` with the same body: req/s, p50 / p99, and the worker's CPU time per request
(from /proc: holds up when other jobs share the machine).
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ab import AbResult, ensure_ab, run_ab  # noqa: E402
from bench.worker_bench import process_cpu_seconds, worker_process  # noqa: E402
from gpu_worker.config import available_cpus  # noqa: E402

SHARED = REPO.parent / "shared"
MODELS_HEADER = "X-Amzn-SageMaker-Custom-Attributes"


@dataclass
class Setup:
    label: str
    cwd: Path
    env: dict[str, str]
    mixed: tuple[str, ...] = ()  # models loaded at once, 80 clients split over them


@dataclass
class Measured:
    lone_p50_ms: list[float] = field(default_factory=list)
    loaded: list[AbResult] = field(default_factory=list)


def lone_p50_ms(port: int, body: bytes, requests: int = 100) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
        connection.getresponse().read()
        times.append((time.perf_counter() - start) * 1000)
    connection.close()
    return statistics.median(times)


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


def measure(setup: Setup, body: Path, n: int, logs: Path, into: Measured) -> None:
    env = {"IPCAI_BACKEND": "onnxruntime", "PYTHONPATH": str(setup.cwd), **setup.env}
    log_path = logs / f"{setup.label.replace(' ', '_')}.log"
    with worker_process(env, log_path, cwd=setup.cwd) as (server, port):
        url = f"http://127.0.0.1:{port}/invocations"
        run_ab("warm-up", url, body, "application/json", 50, 4)
        into.lone_p50_ms.append(lone_p50_ms(port, body.read_bytes()))
        into.loaded.append(loaded_run(url, body, setup, n, server.process.pid))
    loaded = into.loaded[-1]
    print(  # progress, so a run cut short still leaves its numbers
        f"{setup.label}: 1 client p50 {into.lone_p50_ms[-1]:.1f} ms; 80 clients "
        f"{loaded.rps:.1f} req/s, p50 {loaded.p50} ms, {loaded.cpu_ms:.1f} CPU ms/req",
        file=sys.stderr,
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="cad695d", help="git ref of the 'before' worker")
    parser.add_argument("--model", default="deimv2_femto")
    parser.add_argument("--second", default="yolox_nano")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=800)
    args = parser.parse_args()
    ensure_ab()
    model_dir = Path(os.environ.get("IPCAI_MODEL_DIR", SHARED / "models"))
    both = f"{args.model},{args.second}"
    with tempfile.TemporaryDirectory() as tmp:
        before_dir = Path(tmp) / "before"
        before_dir.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.before, "gpu_worker"], cwd=REPO, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(before_dir)], input=archive, check=True)
        common = {"IPCAI_MODEL_DIR": str(model_dir)}
        setups = [
            Setup(
                f"before ({args.before}), 1 model",
                before_dir,
                {**common, "IPCAI_MODEL": args.model},
            ),
            Setup("after, 1 model", REPO, {**common, "IPCAI_MODELS": args.model}),
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
        for _ in range(args.rounds):
            for setup in setups:
                measure(setup, body, args.requests, Path(tmp), results[setup.label])
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {platform.node()} · "
        f"{available_cpus()} CPUs · default model {args.model} · seed JSON body · "
        f"{args.rounds} rounds, alternating\n"
    )
    print(
        "| worker | p50 ms, 1 client (per round) | req/s, 80 clients (per round) | "
        "p50 / p99 ms, 80 clients | errors | worker CPU ms/req |"
    )
    print("|---|---|---|---|---|---|")
    for label, measured in results.items():
        lone = " / ".join(f"{v:.1f}" for v in measured.lone_p50_ms)
        rps = " / ".join(f"{r.rps:.1f}" for r in measured.loaded)
        tails = " · ".join(f"{r.p50} / {r.p99}" for r in measured.loaded)
        errors = sum(r.errors for r in measured.loaded)
        cpu = " / ".join(f"{r.cpu_ms:.1f}" for r in measured.loaded)
        print(f"| {label} | {lone} | {rps} | {tails} | {errors} | {cpu} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
