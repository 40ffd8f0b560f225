"""Dynamic batching through the whole server, in front of a SIMULATED GPU (bench/simulated_gpu.py).

    .venv/bin/python bench/batching_bench.py [--model deimv2_femto] [--gpus 3:0.25,20:5]
        [--clients 1,8,32,128]

For each simulated GPU (`a:b`: a batch of n takes a + b·n ms on one serial device) it starts
the real worker (HTTP, JSON / base64, decode pool, batcher, two lanes, max batch 8: the GPU
defaults) and drives it with ApacheBench at each client count, with the seed's load-test body
and with the raw JPEG. Per run: req/s, p50 / p99, the batch-size histogram (from /metrics), and
throughput against the GPU's limit max_batch / (a + b·max_batch) and against the decode pool's
CPU ceiling, since on a small CPU host the CPU side may be the bound. CPU figures are CPU time,
not wall time, so they hold on a machine shared with other jobs: the decode ceiling is
cores / (CPU time of one decode + preprocess, no HTTP), the server's ceiling is
cores / (the worker process's CPU time per request in that run). At one client it also times
200 sequential requests in Python (sub-ms resolution) and splits each by the worker's own
timings: decode, queue, GPU, post-process and the rest (HTTP and thread hand-offs).
Keep runs short: the development machine is shared.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ab import AbResult, ensure_ab, run_ab  # noqa: E402
from bench.simulated_gpu import NAME, SimulatedGpuBackend  # noqa: E402
from bench.worker_bench import extract_worker, process_cpu_seconds, worker_process  # noqa: E402
from gpu_worker.backends import register_backend  # noqa: E402
from gpu_worker.config import WorkerSettings, available_cpus  # noqa: E402
from gpu_worker.detector import Detector  # noqa: E402
from gpu_worker.metrics import BATCH_BUCKETS  # noqa: E402
from gpu_worker.payload import parse_invocation  # noqa: E402
from harness.prometheus import metric  # noqa: E402

SHARED = REPO.parent / "shared"
PERSONS = SHARED / "images" / "persons.jpg"
MAX_BATCH = 8


@dataclass
class Ceiling:
    raw_cpu_ms: float  # CPU time of one decode + preprocess, raw JPEG
    json_cpu_ms: float  # the same plus JSON parse and base64

    def per_s(self, json: bool) -> float:
        return available_cpus() * 1000 / (self.json_cpu_ms if json else self.raw_cpu_ms)


def decode_ceiling(model: str, model_dir: Path, json_body: bytes, runs: int = 200) -> Ceiling:
    """The CPU side of a request without HTTP: what the decode pool could feed a GPU."""
    register_backend(NAME, SimulatedGpuBackend)
    settings = WorkerSettings(model_dir=model_dir, model=model, backend=NAME, lanes=1)
    detector = Detector.load(settings)
    raw = PERSONS.read_bytes()

    def from_json() -> None:
        invocation = parse_invocation("application/json", json_body, None, "persons", 0.5)
        detector.prepare(invocation.image)

    def cpu_ms(job) -> float:
        job()
        start = time.thread_time()
        for _ in range(runs):
            job()
        return (time.thread_time() - start) * 1000 / runs

    ceiling = Ceiling(cpu_ms(lambda: detector.prepare(raw)), cpu_ms(from_json))
    detector.close()
    return ceiling


def histogram(before: str, after: str, model: str) -> list[int]:
    """Batches per bucket of ipcai_worker_batch_size between two /metrics texts."""
    cumulative = []
    for le in BATCH_BUCKETS:
        if le > MAX_BATCH:
            break
        name, labels = "ipcai_worker_batch_size_bucket", {"model": model, "le": f"{le:.1f}"}
        cumulative.append(metric(after, name, **labels) - metric(before, name, **labels))
    return [int(c - p) for c, p in zip(cumulative, [0.0, *cumulative[:-1]], strict=True)]


def mean_batch(before: str, after: str, model: str) -> float:
    images = metric(after, "ipcai_worker_batch_size_sum", model=model) - metric(
        before, "ipcai_worker_batch_size_sum", model=model
    )
    calls = metric(after, "ipcai_worker_batch_size_count", model=model) - metric(
        before, "ipcai_worker_batch_size_count", model=model
    )
    return images / calls if calls else 0.0


@dataclass
class LoneRequest:
    """Medians over sequential requests: client-side latency and the worker's own stages."""

    latency_ms: float
    decode_ms: float
    queue_ms: float
    gpu_ms: float
    postprocess_ms: float

    @property
    def rest_ms(self) -> float:
        return self.latency_ms - self.decode_ms - self.queue_ms - self.gpu_ms - self.postprocess_ms


def lone_requests(ports: list[int], requests: int = 200) -> list[LoneRequest]:
    """One client, one request at a time, keep-alive, timed in Python (ab rounds to 1 ms); with
    several workers, one request to each in turn, never two in flight."""
    body = PERSONS.read_bytes()
    connections = [http.client.HTTPConnection("127.0.0.1", port) for port in ports]
    latency: list[list[float]] = [[] for _ in ports]
    stages: list[list[dict]] = [[] for _ in ports]
    for _ in range(requests):
        for index, connection in enumerate(connections):
            start = time.perf_counter()
            connection.request("POST", "/invocations", body, {"Content-Type": "image/jpeg"})
            answer = json.loads(connection.getresponse().read())
            latency[index].append((time.perf_counter() - start) * 1000)
            stages[index].append(answer["timings_ms"])
    for connection in connections:
        connection.close()

    def split(index: int) -> LoneRequest:
        def median(stage: str) -> float:
            return statistics.median(t[stage] for t in stages[index])

        return LoneRequest(
            statistics.median(latency[index]),
            median("decode"),
            median("queue"),
            median("infer"),
            median("postprocess"),
        )

    return [split(index) for index in range(len(ports))]


def before_after_lone(
    ref: str, model: str, model_dir: Path, tmp: Path, a: float, b: float
) -> list[LoneRequest]:
    """The lone-request split of the worker as of `ref` and of this one, both in front of the
    same simulated GPU, requests alternating between them."""
    before_dir = extract_worker(ref, tmp / "before")
    argv = [sys.executable, str(REPO / "bench" / "simulated_gpu.py")]
    env = {
        "IPCAI_MODEL_DIR": str(model_dir),
        "IPCAI_MODEL": model,
        "IPCAI_MAX_BATCH": str(MAX_BATCH),
        "SIM_GPU_A_MS": str(a),
        "SIM_GPU_B_MS": str(b),
    }
    old_env = {**env, "PYTHONPATH": str(before_dir)}
    with (
        worker_process(old_env, tmp / "before.log", argv, cwd=before_dir) as (_, old_port),
        worker_process(env, tmp / "after.log", argv) as (_, new_port),
    ):
        lone_requests([old_port, new_port], 20)  # warm-up
        return lone_requests([old_port, new_port])


def requests_for(clients: int, limit_per_s: float) -> int:
    """Enough for steady state, at most ~6 s at the GPU's limit: the machine is shared."""
    wanted = {1: 200, 8: 500, 32: 1000}.get(clients, 1500)
    return max(clients * 2, min(wanted, int(limit_per_s * 6)))


def run_gpu(args, model_dir: Path, tmp: Path, json_body: Path, a: float, b: float):
    env = {
        "IPCAI_MODEL_DIR": str(model_dir),
        "IPCAI_MODEL": args.model,
        "IPCAI_MAX_BATCH": str(MAX_BATCH),
        "SIM_GPU_A_MS": str(a),
        "SIM_GPU_B_MS": str(b),
    }
    argv = [sys.executable, str(REPO / "bench" / "simulated_gpu.py")]
    rows = []
    with worker_process(env, tmp / f"sim-{a}-{b}.log", argv) as (server, port):
        base = f"http://127.0.0.1:{port}"
        url = f"{base}/invocations"
        run_ab("warm-up", url, json_body, "application/json", 200, 8)
        limit = MAX_BATCH / ((a + b * MAX_BATCH) / 1000)
        (lone,) = lone_requests([port], requests=min(200, max(20, int(limit * 2))))
        for label, body, content_type in (
            ("seed JSON", json_body, "application/json"),
            ("raw JPEG", PERSONS, "image/jpeg"),
        ):
            for clients in args.clients:
                before = http_get(f"{base}/metrics")
                cpu_before = process_cpu_seconds(server.process.pid)
                n = requests_for(clients, limit)
                result: AbResult = run_ab(label, url, body, content_type, n, clients)
                result.cpu_ms = (process_cpu_seconds(server.process.pid) - cpu_before) * 1000 / n
                after = http_get(f"{base}/metrics")
                hist = histogram(before, after, args.model)
                rows.append((label, clients, result, hist, mean_batch(before, after, args.model)))
    return lone, rows


def compare_loads(
    ref: str, args, model_dir: Path, tmp: Path, json_body: Path, a: float, b: float
) -> list[tuple[str, str, int, AbResult, float]]:
    """The worker as of `ref` (a git ref, or a checkout's folder) and this one at once, in
    front of the same simulated GPU, driven in turn at each client count and body: req/s and
    each worker process's CPU per request, side by side (issue 28)."""
    before_dir = Path(ref) if Path(ref).is_dir() else extract_worker(ref, tmp / "loads-before")
    env = {
        "IPCAI_MODEL_DIR": str(model_dir),
        "IPCAI_MODEL": args.model,
        "IPCAI_MAX_BATCH": str(MAX_BATCH),
        "SIM_GPU_A_MS": str(a),
        "SIM_GPU_B_MS": str(b),
    }
    argv = [sys.executable, str(REPO / "bench" / "simulated_gpu.py")]
    old_env = {**env, "PYTHONPATH": str(before_dir)}
    limit = MAX_BATCH / ((a + b * MAX_BATCH) / 1000)
    rows = []
    with (
        worker_process(old_env, tmp / "loads-before.log", argv, cwd=before_dir) as old,
        worker_process(env, tmp / "loads-after.log", argv) as new,
    ):
        workers = ((f"before ({ref})", *old), ("after", *new))
        for _, _, port in workers:
            url = f"http://127.0.0.1:{port}/invocations"
            run_ab("warm-up", url, json_body, "application/json", 200, 8)
        for _ in range(args.rounds):
            for label, body, content_type in (
                ("raw JPEG", PERSONS, "image/jpeg"),
                ("seed JSON", json_body, "application/json"),
            ):
                for clients in args.clients:
                    for name, server, port in workers:
                        base = f"http://127.0.0.1:{port}"
                        before = http_get(f"{base}/metrics")
                        cpu_before = process_cpu_seconds(server.process.pid)
                        n = requests_for(clients, limit)
                        url = f"{base}/invocations"
                        result = run_ab(label, url, body, content_type, n, clients)
                        cpu_s = process_cpu_seconds(server.process.pid) - cpu_before
                        result.cpu_ms = cpu_s * 1000 / n
                        after = http_get(f"{base}/metrics")
                        mean = mean_batch(before, after, args.model)
                        rows.append((name, label, clients, result, mean))
    return rows


def http_get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="deimv2_femto")
    parser.add_argument("--gpus", default="3:0.25,30:10", help="a:b pairs in ms")
    parser.add_argument("--clients", default="1,8,32,128")
    parser.add_argument(
        "--before", default="cad695d", help="git ref compared at one client ('' to skip)"
    )
    parser.add_argument(
        "--loads-before",
        default="",
        help="a git ref or checkout folder: compare its worker and this one under the loads "
        "(first --gpus pair only, side by side) instead of the usual run",
    )
    parser.add_argument("--rounds", type=int, default=1, help="with --loads-before")
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    ensure_ab()
    settings = WorkerSettings.from_env()
    model_dir = settings.model_dir if "IPCAI_MODEL_DIR" in os.environ else SHARED / "models"
    with tempfile.TemporaryDirectory() as tmp:
        json_body = Path(tmp) / "post_worker.json"
        seed = (SHARED / "images" / "post_data.txt").read_text()
        json_body.write_text(seed.replace("image_base64_enc", "image_bytes"))
        ceiling = decode_ceiling(args.model, model_dir, json_body.read_bytes())
        first_a, first_b = (float(v) for v in args.gpus.split(",")[0].split(":"))
        if args.loads_before:
            rows = compare_loads(
                args.loads_before, args, model_dir, Path(tmp), json_body, first_a, first_b
            )
            print_compared_loads(args, settings, ceiling, rows, first_a, first_b)
            return 0
        compared = []
        if args.before:
            compared = before_after_lone(
                args.before, args.model, model_dir, Path(tmp), first_a, first_b
            )
        results = []
        for pair in args.gpus.split(","):
            a, b = (float(v) for v in pair.split(":"))
            results.append((a, b, *run_gpu(args, model_dir, Path(tmp), json_body, a, b)))
    cpus = available_cpus()
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {platform.node()} · "
        f"{cpus} CPUs · model {args.model} · 2 lanes, max batch {MAX_BATCH}, "
        f"IPCAI_MAX_WAIT_MS={settings.max_wait_ms:g}\n"
    )
    print(
        f"Decode ceiling (CPU time, no HTTP): raw JPEG {ceiling.raw_cpu_ms:.2f} CPU ms per image "
        f"= {ceiling.per_s(False):.0f} images/s on {cpus} cores; seed JSON (parse + base64 + "
        f"decode) {ceiling.json_cpu_ms:.2f} ms = {ceiling.per_s(True):.0f} images/s\n"
    )
    if compared:
        print(
            f"Lone requests, the worker as of {args.before} and this one side by side (requests "
            f"alternating), simulated GPU {first_a:g} + {first_b:g}·n ms, raw JPEG, medians:\n"
        )
        print("| worker | p50 ms | decode | queue | GPU | post-process | HTTP and hand-offs |")
        print("|---|---|---|---|---|---|---|")
        for label, lone in zip((f"before ({args.before})", "after"), compared, strict=True):
            print(
                f"| {label} | {lone.latency_ms:.2f} | {lone.decode_ms:.2f} | {lone.queue_ms:.2f} "
                f"| {lone.gpu_ms:.2f} | {lone.postprocess_ms:.2f} | {lone.rest_ms:.2f} |"
            )
        print()
    for a, b, lone, rows in results:
        limit = MAX_BATCH / ((a + b * MAX_BATCH) / 1000)
        print(
            f"**Simulated GPU {a:g} + {b:g}·n ms** (limit {limit:.0f} images/s at batch "
            f"{MAX_BATCH}). One client, sequential raw-JPEG requests: p50 "
            f"{lone.latency_ms:.2f} ms = decode {lone.decode_ms:.2f} + queue {lone.queue_ms:.2f} "
            f"+ GPU {lone.gpu_ms:.2f} + post-process {lone.postprocess_ms:.2f} + HTTP and "
            f"hand-offs {lone.rest_ms:.2f} ms\n"
        )
        sizes = [le for le in BATCH_BUCKETS if le <= MAX_BATCH]
        heads = " | ".join(
            f"batch {lo}-{hi}" if lo != hi else f"batch {hi}"
            for lo, hi in zip([1, *[s + 1 for s in sizes[:-1]]], sizes, strict=True)
        )
        print(
            f"| body | clients | req/s | p50 ms | p99 ms | errors | mean batch | {heads} "
            "| ÷ GPU limit | server CPU ms/req | CPU ceiling req/s | ÷ CPU ceiling |"
        )
        print("|---" * (11 + len(sizes)) + "|")
        for label, clients, result, hist, mean in rows:
            cpu_ceiling = cpus * 1000 / result.cpu_ms
            print(
                f"| {label} | {clients} | {result.rps:.1f} | {result.p50} | {result.p99} | "
                f"{result.errors} | {mean:.2f} | {' | '.join(str(h) for h in hist)} | "
                f"{result.rps / limit:.2f} | {result.cpu_ms:.1f} | {cpu_ceiling:.0f} | "
                f"{result.rps / cpu_ceiling:.2f} |"
            )
        print()
    return 0


def print_compared_loads(args, settings, ceiling: Ceiling, rows, a: float, b: float) -> None:
    cpus = available_cpus()
    limit = MAX_BATCH / ((a + b * MAX_BATCH) / 1000)
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {platform.node()} · "
        f"{cpus} CPUs · load average {os.getloadavg()[0]:.1f} · model {args.model} · "
        f"simulated GPU {a:g} + {b:g}·n ms (limit {limit:.0f} images/s) · 2 lanes, max batch "
        f"{MAX_BATCH}, IPCAI_MAX_WAIT_MS={settings.max_wait_ms:g}\n"
    )
    print(
        f"Decode ceiling of this worker (CPU time, no HTTP): raw JPEG {ceiling.raw_cpu_ms:.2f} "
        f"CPU ms per image; seed JSON {ceiling.json_cpu_ms:.2f} ms\n"
    )
    print(
        "| worker | body | clients | req/s | p50 ms | p99 ms | errors | mean batch "
        "| server CPU ms/req | CPU ceiling req/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, label, clients, result, mean in rows:
        print(
            f"| {name} | {label} | {clients} | {result.rps:.1f} | {result.p50} | {result.p99} | "
            f"{result.errors} | {mean:.2f} | {result.cpu_ms:.2f} | "
            f"{cpus * 1000 / result.cpu_ms:.0f} |"
        )


if __name__ == "__main__":
    sys.exit(main())
