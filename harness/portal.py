"""Start a real portal (gunicorn) on a free port against a freshly migrated database.

Used by the portal's live tests, the Python client's tests, the browser tests and the portal
benchmark: each gets its own database (a SQLite file, or a new PostgreSQL database when the
suite runs against PostgreSQL) and its own Redis key prefix, so nothing leaks between them.
Tenants and keys are created the operator's way, through `manage.py`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from harness.celery_processes import default_queue, webhook_queue
from harness.processes import REPO_ROOT, ServerProcess, free_port, http_ok

KEY_PATTERN = re.compile(r"^(ipcai_[0-9a-f]{12}_\S+)$", re.MULTILINE)


@dataclass
class Portal:
    """A running portal: its base URL, the environment it runs with, and operator commands."""

    base_url: str
    env: dict[str, str]
    server: ServerProcess
    log_dir: Path
    extra: list[ServerProcess] = field(default_factory=list)

    def manage(self, *args: str, timeout: float = 120) -> str:
        """Run `manage.py args` against this portal's database and Redis; return stdout."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.server.cwd,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def create_tenant(
        self,
        slug: str,
        services: Sequence[str] = ("persons-detection",),
        quota: int | None = None,
    ) -> str:
        """Create a tenant with these services; return its new API key."""
        args = ["create_tenant", slug, "--services", ",".join(services)]
        if quota is not None:
            args += ["--quota", str(quota)]
        return _key_in(self.manage(*args))

    def issue_api_key(self, slug: str, name: str = "") -> str:
        return _key_in(self.manage("issue_api_key", slug, "--name", name))

    def drain_usage(self) -> str:
        return self.manage("drain_usage")

    def log(self) -> str:
        return self.server.log()


def _key_in(output: str) -> str:
    match = KEY_PATTERN.search(output)
    if match is None:
        raise RuntimeError(f"no API key in the command output:\n{output}")
    return match.group(1)


def fresh_database_url(directory: Path) -> tuple[str, str | None]:
    """(DATABASE_URL, postgres database to drop afterwards) for a new, empty database.

    PostgreSQL when the suite's own DATABASE_URL points there (the suite's PostgreSQL run),
    otherwise a SQLite file in `directory`.
    """
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"ipcai_live_{uuid.uuid4().hex[:10]}"
        admin_url = urlunsplit(urlsplit(base)._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return urlunsplit(urlsplit(base)._replace(path=f"/{name}")), name
    return f"sqlite:///{directory / 'portal.sqlite3'}", None


def _drop_postgres_database(name: str) -> None:
    import psycopg

    admin_url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def running_portal(
    log_dir: Path,
    worker_url: str,
    *,
    celery: bool = False,
    workers: int = 1,
    threads: int = 16,
    tree: Path = REPO_ROOT,
    **env: str,
) -> Iterator[Portal]:
    """Yield a Portal once its /healthz answers: migrated database, gunicorn on a free port,
    inference sent to `worker_url`; with `celery=True` also a Celery worker + beat (usage
    drain, archiving) and the webhook queue's own worker. `tree` is the checkout it runs
    from (benchmarks compare an earlier commit's `git worktree` side by side). Extra keyword
    arguments become environment variables (settings)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    database_url, postgres_db = fresh_database_url(log_dir)
    stack_id = uuid.uuid4().hex[:8]
    portal_env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url,
        "IPCAI_REDIS_PREFIX": f"ipcai-live-{stack_id}:",
        # Its own Celery queue on the shared Redis: another stack's worker never takes its tasks.
        "IPCAI_CELERY_QUEUE": f"ipcai-live-{stack_id}",
        "IPCAI_WORKER_URL": worker_url,
        # The portal refuses its placeholder secret with DEBUG off (benchmarks run outside the
        # test settings, which set one).
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or f"live-{uuid.uuid4().hex}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_THREADS": str(threads),
        **env,
    }
    portal = Portal(
        base_url=f"http://127.0.0.1:{port}",
        env=portal_env,
        server=ServerProcess(
            argv=[sys.executable, "-m", "gunicorn", "-c", "portal/gunicorn.conf.py", "portal.wsgi"],
            env=portal_env,
            log_path=log_dir / f"portal-{port}.log",
            cwd=tree,
        ),
        log_dir=log_dir,
    )
    try:
        portal.manage("migrate", "--verbosity", "0")
        portal.server.start()
        if celery:
            portal.extra.append(
                ServerProcess(
                    argv=[
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "portal",
                        "worker",
                        "-Q",
                        default_queue(portal_env),
                        "--beat",
                        "--pool",
                        "solo",
                        "--without-gossip",
                        "--without-mingle",
                        "--loglevel",
                        "INFO",
                        "--schedule",
                        str(log_dir / f"celerybeat-{port}"),
                    ],
                    env=portal_env,
                    log_path=log_dir / f"celery-{port}.log",
                ).start()
            )
            # Webhook attempts on their own queue and worker, as in production.
            portal.extra.append(
                ServerProcess(
                    argv=[sys.executable, "-m", "celery", "-A", "portal", "worker",
                          "-Q", webhook_queue(portal_env), "--pool", "solo",
                          "--hostname", f"webhooks-{port}@%h",
                          "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
                    env=portal_env,
                    log_path=log_dir / f"webhooks-{port}.log",
                ).start()
            )  # fmt: skip
        portal.server.wait_until(lambda: http_ok(f"{portal.base_url}/healthz"), timeout=60)
        yield portal
    finally:
        for process in [*portal.extra, portal.server]:
            process.stop()
        if postgres_db:
            _drop_postgres_database(postgres_db)
        forget_redis_prefix(portal_env["IPCAI_REDIS_PREFIX"])


def forget_redis_prefix(prefix: str) -> None:
    """Delete every Redis key a portal (or test run) wrote under its prefix."""
    import redis

    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
