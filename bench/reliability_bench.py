"""Fault table: kill parts of a private stack mid-traffic and count what was answered, archived
and metered; then a soak with each process's RSS over time.

    .venv/bin/python bench/reliability_bench.py [--requests 300] [--rate 15] [--soak-s 300]
                                                [--only celery_group,pool_child,...]

The stack is the one `make run` starts, every part a process started here: redis-server (AOF,
`appendfsync everysec`, the production default), gpu_worker (yolox_nano), the portal under
gunicorn with 2 processes, a Celery worker (prefork, 2 children, own process group) and a
separate beat, a local-folder archive. The outbox sweep is shortened (claim bound 10 s, sweep
every 5 s; production: 120 s and 30 s) so a run takes minutes. A supervisor loop here restarts
a dead beat or Celery worker after 2 s, as `make run` does.

Per fault: requests at a fixed rate from 16 threads, the fault injected a third of the way in,
then wait until the outbox is empty and the metered count is stable. "archived" counts the
events API's rows and the files; "metered" the UsageEvent rows after beat's drain (no manual
drain). Prints Markdown for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.celery_processes import CeleryProcesses  # noqa: E402
from harness.fault_stack import running_fault_stack  # noqa: E402
from harness.images import seed_image  # noqa: E402
from harness.portal import Portal  # noqa: E402
from harness.redis_server import RedisServer  # noqa: E402

JPEG = seed_image("persons")
ENV = {
    "IPCAI_ARCHIVE_CLAIM_AFTER_S": "10",
    "IPCAI_ARCHIVE_SWEEP_S": "5",
    "IPCAI_RATE_LIMIT_REQUESTS": "1000000",
    "LOG_LEVEL": "WARNING",
}


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Bench:
    def __init__(self, portal: Portal, redis_server: RedisServer, celery: CeleryProcesses,
                 worker_restart, archive: Path) -> None:  # fmt: skip
        self.portal, self.redis, self.celery = portal, redis_server, celery
        self.worker_restart = worker_restart
        self.archive = archive
        self.supervising = True
        threading.Thread(target=self._supervise, daemon=True).start()

    def _supervise(self) -> None:
        """make run's supervisor: restart a dead beat or Celery worker after 2 s, loudly."""
        while self.supervising:
            for name in ("beat", "worker"):
                process = getattr(self.celery, name)
                if process is not None and process.poll() is not None:
                    print(f"    !!! {name} died ({process.returncode}); restarting in 2 s")
                    setattr(self.celery, name, None)
                    time.sleep(2)
                    (self.celery.start_beat if name == "beat" else self.celery.start_worker)()
            time.sleep(0.2)

    def tenant(self, slug: str) -> str:
        key = self.portal.create_tenant(slug, ("persons-detection",))
        self.portal.manage("archive_requests", slug, "--on")
        return key

    def send(self, key: str, total: int, rate: float, fault, at: int) -> list:
        """`total` requests at `rate`/s; fault() runs once request `at` is due."""
        url = f"{self.portal.base_url}/api/v1/detect/persons-detection"
        headers = {"x-api-key": key, "Content-Type": "image/jpeg"}

        def one(i: int):
            try:
                r = requests.post(url, data=JPEG, headers=headers, timeout=60)
                code = r.json().get("error", {}).get("code", "") if r.status_code != 200 else ""
                return r.status_code, code, r.headers.get("X-Request-Id")
            except requests.RequestException:
                return 0, "connection", None

        started = time.monotonic()
        futures = []
        with ThreadPoolExecutor(max_workers=16) as pool:
            for i in range(total):
                delay = started + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if i == at and fault:
                    threading.Thread(target=fault, daemon=True).start()
                futures.append(pool.submit(one, i))
            return [f.result() for f in futures]

    def outbox(self) -> int:
        key = f"{self.portal.env['IPCAI_REDIS_PREFIX']}archive:outbox"
        try:
            return self.redis.client().xlen(key)
        except Exception:
            return -1

    def counts(self, slug: str) -> dict:
        """Archived rows, metered rows and image files of one tenant (the portal's SQLite)."""
        database = self.portal.env["DATABASE_URL"].removeprefix("sqlite:///")
        with sqlite3.connect(database, timeout=30) as db:
            (tenant_id,) = db.execute(
                "SELECT id FROM tenants_tenant WHERE slug = ?", [slug]
            ).fetchone()
            archived = db.execute(
                "SELECT COUNT(*) FROM events_archivedevent WHERE tenant_id = ?", [tenant_id]
            ).fetchone()[0]
            metered = db.execute(
                "SELECT COUNT(*) FROM detection_usageevent WHERE tenant_id = ?", [tenant_id]
            ).fetchone()[0]
        folder = self.archive / slug
        files = sum(1 for p in folder.rglob("*.jpg") if ".thumb." not in p.name)
        return {"archived": archived, "metered": metered, "files": files}

    def settle(self, slug: str, answered_ids: int, timeout: float = 240) -> tuple[dict, float]:
        """Wait until the outbox is empty and the metered count stops moving."""
        started, last, stable_since = time.monotonic(), None, time.monotonic()
        while time.monotonic() - started < timeout:
            now = self.counts(slug)
            if now != last:
                last, stable_since = now, time.monotonic()
            if self.outbox() == 0 and now["metered"] >= answered_ids:
                break
            if time.monotonic() - stable_since > 45:
                break
            time.sleep(1)
        return last, time.monotonic() - started

    def report_errors(self, slug: str) -> int:
        out = self.portal.manage("usage_report", "--tenant", slug, "--format", "json")
        rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return sum(r["errors"] for r in rows if r["application_type"] == "all")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rate", type=float, default=15.0)
    parser.add_argument("--soak-s", type=int, default=300)
    parser.add_argument("--soak-rate", type=float, default=20.0)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))

    with (
        tempfile.TemporaryDirectory() as tmp_name,
        running_fault_stack(
            Path(tmp_name), appendfsync="everysec", worker_env={"LOG_LEVEL": "WARNING"}, **ENV
        ) as stack,
    ):
        bench = Bench(stack.portal, stack.redis, stack.celery, stack.worker, stack.archive_dir)
        try:
            run(bench, args, only, stack.worker)
        finally:
            bench.supervising = False
    return 0


def run(bench: Bench, args, only: set[str], worker) -> None:
    n, rate = args.requests, args.rate
    rows = []

    def scenario(name: str, label: str, fault, total: int = n):
        if only and name not in only:
            return
        slug = name.replace("_", "")
        key = bench.tenant(slug)
        t0 = time.monotonic()
        answers = bench.send(key, total, rate, fault, total // 3)
        statuses = Counter((s, c) for s, c, _ in answers)
        settled, took = bench.settle(slug, sum(1 for s, _, i in answers if i))
        errors = bench.report_errors(slug)
        answered = ", ".join(
            f"{count} x {status}{' ' + code if code else ''}"
            for (status, code), count in sorted(statuses.items())
        )
        rows.append(
            f"| {label} | {answered} | {settled['archived']} rows / {settled['files']} images "
            f"| {settled['metered']} (report errors {errors}) | {took:.0f} s after the burst "
            f"(burst {time.monotonic() - t0 - took:.0f} s) |"
        )
        print(rows[-1], flush=True)

    def kill_celery_group():
        os.killpg(bench.celery.worker.pid, signal.SIGKILL)  # the supervisor restarts it

    def kill_pool_child():
        kids = children(bench.celery.worker.pid)
        if kids:
            os.kill(kids[0], signal.SIGKILL)

    def kill_beat():
        bench.celery.beat.send_signal(signal.SIGKILL)
        t = time.monotonic()
        while time.monotonic() - t < 30:
            r = requests.get(f"{bench.portal.base_url}/healthz/celery", timeout=5)
            if r.status_code == 503:
                print(f"    readiness 503 {time.monotonic() - t:.1f} s after beat's death")
                return
            time.sleep(0.2)

    def kill_redis_10s():
        os.kill(bench.redis.pid, signal.SIGKILL)
        bench.redis.stop()
        time.sleep(10)
        bench.redis.start()

    def kill_worker_10s():
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait()
        time.sleep(10)
        worker.start()

    def kill_gunicorn_worker():
        kids = children(bench.portal.server.process.pid)
        if kids:
            os.kill(kids[0], signal.SIGKILL)

    scenario("celery_group", "whole Celery process group SIGKILLed, restarted 2 s later",
             kill_celery_group)  # fmt: skip
    scenario("pool_child", "one Celery pool child SIGKILLed", kill_pool_child)
    scenario("beat", "beat SIGKILLed (restarted 2 s later)", kill_beat)
    scenario("redis", f"Redis SIGKILLed for 10 s ({2 * n} at {rate:g}/s)", kill_redis_10s, 2 * n)
    scenario("worker", "inference worker SIGKILLed for 10 s", kill_worker_10s, 2 * n)
    scenario("gunicorn", "one gunicorn worker SIGKILLed", kill_gunicorn_worker)
    print("\n| fault | answered | archived | metered | settled |\n|---|---|---|---|---|")
    print("\n".join(rows))
    if not only or "soak" in only:
        soak(bench, args.soak_s, args.soak_rate, worker)


def soak(bench: Bench, seconds: int, rate: float, worker) -> None:
    key = bench.tenant("soak")
    processes = {
        "gunicorn worker 1": None,
        "gunicorn worker 2": None,
        "celery parent": bench.celery.worker.pid,
        "inference worker": worker.process.pid,
    }
    kids = children(bench.portal.server.process.pid)
    for i, pid in enumerate(sorted(kids)[:2]):
        processes[f"gunicorn worker {i + 1}"] = pid
    samples: list[tuple[float, dict[str, float]]] = []
    done = threading.Event()

    def sample():
        started = time.monotonic()
        while not done.is_set():
            samples.append(
                (time.monotonic() - started, {k: rss_mb(p) for k, p in processes.items() if p})
            )
            done.wait(30)

    threading.Thread(target=sample, daemon=True).start()
    answers = bench.send(key, int(seconds * rate), rate, None, -1)
    done.set()
    settled, _ = bench.settle("soak", len(answers))
    ok = sum(1 for s, _, _ in answers if s == 200)
    print(f"\nsoak {seconds} s at {rate:g}/s: {ok} x 200 of {len(answers)}, {settled}")
    names = list(samples[0][1])
    print("| t (s) | " + " | ".join(f"{n} RSS MB" for n in names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for t, values in samples:
        print(f"| {t:.0f} | " + " | ".join(f"{values.get(n, 0):.0f}" for n in names) + " |")


if __name__ == "__main__":
    raise SystemExit(main())
