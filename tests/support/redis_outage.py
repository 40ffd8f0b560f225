"""A private Redis as the portal's Redis for one test, to kill or pause by pid.

Tests that take Redis away (tests/apps/core/test_breaker.py, tests/apps/tenants/
test_redis_outage.py) wrap `private_redis` in a fixture of their own. Never the machine's shared
Redis: other suites use it. Timeouts and probes are short so the breaker reacts within the test.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

from apps.core.redis import redis_available
from harness.polling import eventually
from harness.redis_server import RedisServer

TIMEOUT_S = 0.5


def private_redis(settings, directory: Path) -> Iterator[RedisServer]:
    """Point the portal (pytest-django's `settings`) at a new redis-server; afterwards back at
    the shared one, with the breaker closed."""
    server = RedisServer(directory / "redis").start()
    shared_url = settings.REDIS_URL
    settings.REDIS_URL = server.url
    settings.IPCAI_REDIS_TIMEOUT_S = TIMEOUT_S
    settings.IPCAI_REDIS_PROBE_TIMEOUT_S = 0.2
    settings.IPCAI_REDIS_PROBE_INTERVAL_S = 0.1
    try:
        yield server
    finally:
        if server.pid:
            os.kill(server.pid, signal.SIGCONT)
        server.stop()
        settings.REDIS_URL = shared_url  # another server: the breaker starts closed
        eventually(redis_available, 10, "the breaker to close after the test")


def kill(server: RedisServer) -> None:
    os.kill(server.pid, signal.SIGKILL)
    server.stop()  # reaps the killed process
