"""The whole service as separate real processes, for fault tests and the reliability bench.

A private redis-server with an append-only file (the portal's Redis and Celery's broker), the
inference worker, the portal under gunicorn with two processes, a Celery worker in its own
process group and a separate beat, archiving to a local folder: every part something a test
can SIGKILL by pid or process group, as tests/apps/archive/test_faults.py and
bench/reliability_bench.py do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.celery_processes import CeleryProcesses
from harness.portal import Portal, running_portal
from harness.processes import ServerProcess
from harness.redis_server import RedisServer
from harness.worker import running_worker


@dataclass
class FaultStack:
    portal: Portal
    redis: RedisServer
    celery: CeleryProcesses
    worker: ServerProcess  # the inference worker
    archive_dir: Path
    spool_dir: Path


@contextmanager
def running_fault_stack(
    directory: Path,
    *,
    appendfsync: str = "always",
    worker_env: dict[str, str] | None = None,
    **portal_env: str,
) -> Iterator[FaultStack]:
    """Start every process under `directory` (logs, archive, spool); stop them all after.
    `portal_env` are the portal's and Celery's settings, `worker_env` the inference worker's."""
    redis_server = RedisServer(directory / "redis", appendfsync=appendfsync).start()
    archive_dir, spool_dir = directory / "archive", directory / "spool"
    # Settings only (environment variables, all strings): Any, as mypy cannot tell that none of
    # these names is one of running_portal's own keyword arguments.
    settings: dict[str, Any] = {
        "REDIS_URL": redis_server.url,
        "CELERY_BROKER_URL": redis_server.url,
        "IPCAI_ARCHIVE_URL": f"file://{archive_dir}",
        "IPCAI_EVENT_SPOOL_DIR": str(spool_dir),
        **portal_env,
    }
    try:
        with (
            running_worker(directory, **(worker_env or {})) as (worker, worker_url),
            running_portal(directory / "portal", worker_url, workers=2, **settings) as portal,
        ):
            celery = CeleryProcesses(portal.env, directory)
            celery.start_worker()
            celery.start_webhook_worker()
            celery.start_beat()
            try:
                yield FaultStack(portal, redis_server, celery, worker, archive_dir, spool_dir)
            finally:
                celery.stop()
    finally:
        redis_server.stop()
