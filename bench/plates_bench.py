"""Plate reading through the real worker: exact reads, box misses and CPU per read vehicle.

    .venv/bin/python bench/plates_bench.py [--model deimv2_femto] [--limit 222]

Starts `python -m gpu_worker` twice on free ports, each with one single-threaded lane and no
all-cores idle session (so every request runs on one core): once as shipped, once with
IPCAI_PLATES=0. Each image of shared/eval/plates/us is sent one request at a time as
`license-plates` and as `vehicles-detection`; the worker process's CPU time (the sum of its
threads' schedstat run time, nanoseconds) is read around each request. CPU per read vehicle =
(license-plates CPU - vehicles-detection CPU) / vehicles of a plate class in the answer;
the median over images with at least one such vehicle is the figure in docs/BENCHMARKS.md.
Images with no such vehicle report the whole-frame search's CPU (frame_plates) apart.
The second worker's vehicles-detection CPU beside the first's shows that a request asking
for no plates costs what it cost before the reader existed. Scoring: harness/plates_eval.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.plates_eval import Judged, judge, load_truth  # noqa: E402
from harness.worker import running_worker  # noqa: E402


def process_cpu_ns(pid: int) -> int:
    """CPU time of every thread of `pid` so far, in nanoseconds (/proc schedstat)."""
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total


@contextmanager
def worker(log_dir: Path, model: str, **env: str) -> Iterator[tuple[int, str]]:
    one_core = {"IPCAI_LANES": "1", "IPCAI_IDLE_THREADS": "0", **env}
    with running_worker(log_dir, model=model, **one_core) as (server, url):
        assert server.process is not None
        yield server.process.pid, url


def invoke(url: str, image: bytes, application_type: str, min_confidence: float) -> dict:
    response = requests.post(
        f"{url}/invocations",
        data=image,
        headers={
            "Content-Type": "image/jpeg",
            "X-Amzn-SageMaker-Custom-Attributes": (
                f"application_type={application_type},min_confidence={min_confidence}"
            ),
        },
        timeout=120,
    )
    response.raise_for_status()
    return response.json()


def timed(pid: int, url: str, image: bytes, kind: str, min_confidence: float) -> tuple[dict, float]:
    before = process_cpu_ns(pid)
    answer = invoke(url, image, kind, min_confidence)
    return answer, (process_cpu_ns(pid) - before) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="deimv2_femto")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--min-confidence", type=float, default=0.5)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    truths = load_truth(args.limit)
    judged: list[Judged] = []
    per_vehicle_ms: list[float] = []
    vehicles_ms: list[float] = []
    frame_ms: list[float] = []
    plain_ms: list[float] = []
    with tempfile.TemporaryDirectory() as logs:
        with worker(Path(logs), args.model) as (pid, url):
            for truth in truths:
                image = truth.image.read_bytes()
                plates, plates_ms = timed(pid, url, image, "license-plates", args.min_confidence)
                _, vehicle_ms = timed(pid, url, image, "vehicles-detection", args.min_confidence)
                vehicles_ms.append(vehicle_ms)
                judged.append(judge(truth, plates))
                if judged[-1].vehicles:
                    per_vehicle_ms.append(max(0.0, plates_ms - vehicle_ms) / judged[-1].vehicles)
                else:  # the whole frame searched for a plate (close-ups)
                    frame_ms.append(max(0.0, plates_ms - vehicle_ms))
        with worker(Path(logs), args.model, IPCAI_PLATES="0") as (pid, url):
            for truth in truths:
                _, ms = timed(pid, url, truth.image.read_bytes(), "vehicles-detection", 0.5)
                plain_ms.append(ms)
    exact = sum(j.exact for j in judged)
    misses = sum(j.box_miss for j in judged)
    total = len(judged)
    if args.show_misses:
        for j in judged:
            if not j.exact:
                print(
                    f"  {j.truth.image.name}: truth {j.truth.text}, read {j.read or '-'} "
                    f"({j.failure})"
                )
    print(f"model {args.model}, {total} images of shared/eval/plates/us")
    print("| figure | value |")
    print("|---|---|")
    halves = [sum(j.exact for j in judged[start::2]) for start in (0, 1)]
    print(
        f"| exact reads | {exact}/{total} ({100 * exact / total:.1f}%); even indices "
        f"{halves[0]}/{len(judged[0::2])}, odd {halves[1]}/{len(judged[1::2])} |"
    )
    print(f"| exact reads whose box misses the true plate | {misses} |")
    print(f"| images with a read vehicle | {len(per_vehicle_ms)} |")
    for failure, count in Counter(j.failure for j in judged if not j.exact).most_common():
        print(f"| misses: {failure} | {count} |")
    if per_vehicle_ms:
        print(
            f"| CPU ms per read vehicle, one core: median / mean | "
            f"{statistics.median(per_vehicle_ms):.1f} / {statistics.mean(per_vehicle_ms):.1f} |"
        )
    if frame_ms:
        print(
            f"| CPU ms of the whole-frame search, images without a vehicle ({len(frame_ms)}): "
            f"median / mean | {statistics.median(frame_ms):.1f} / {statistics.mean(frame_ms):.1f} |"
        )
    print(
        f"| vehicles-detection CPU ms per request, reader loaded / IPCAI_PLATES=0 (median) | "
        f"{statistics.median(vehicles_ms):.1f} / {statistics.median(plain_ms):.1f} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
