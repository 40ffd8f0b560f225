"""The Redis circuit breaker against a real redis-server process killed and paused by pid.

A private redis-server (harness/redis_server.py), never the machine's shared one: the tests
SIGKILL it, SIGSTOP it (it then accepts connections and never answers) and start it again.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from redis.exceptions import RedisError

from apps.core.breaker import RedisUnavailable
from apps.core.redis import (
    fallback_totals,
    fallbacks_key,
    get_redis,
    redis_available,
    redis_breaker,
)
from harness.polling import eventually
from harness.redis_server import RedisServer
from tests.support import redis_outage as outage

TIMEOUT_S = outage.TIMEOUT_S


@pytest.fixture
def private_redis(settings, tmp_path) -> Iterator[RedisServer]:
    yield from outage.private_redis(settings, tmp_path)


def test_a_killed_redis_opens_the_breaker_and_later_calls_fail_without_connecting(
    private_redis,
):
    get_redis().set("k", "v")
    os.kill(private_redis.pid, signal.SIGKILL)
    private_redis.stop()

    with pytest.raises(RedisError):
        get_redis().get("k")
    assert not redis_available()
    for _ in range(50):
        with pytest.raises(RedisUnavailable):
            get_redis().get("k")


def test_a_paused_redis_costs_one_timeout_then_calls_fail_at_once(private_redis):
    get_redis().set("k", "v")
    os.kill(private_redis.pid, signal.SIGSTOP)

    started = time.monotonic()
    with pytest.raises(RedisError):  # timed out; the retry then finds the breaker open
        get_redis().get("k")
    first_wait = time.monotonic() - started
    # One socket timeout: no retries with backoff, no second attempt on a fresh connection.
    assert TIMEOUT_S <= first_wait < 2 * TIMEOUT_S
    started = time.monotonic()
    with pytest.raises(RedisUnavailable):
        get_redis().pipeline().get("k").incr("n").execute()
    assert time.monotonic() - started < TIMEOUT_S


def test_redis_is_used_again_as_soon_as_it_answers(private_redis):
    os.kill(private_redis.pid, signal.SIGSTOP)
    with pytest.raises(RedisError):
        get_redis().get("k")
    assert not redis_available()

    os.kill(private_redis.pid, signal.SIGCONT)
    eventually(redis_available, 5, "the probe to close the breaker")
    assert get_redis().set("k", "back")
    assert get_redis().get("k") == b"back"


def test_fallback_counts_are_handed_to_redis_when_it_returns(private_redis):
    before = fallback_totals().get("requests", 0)
    os.kill(private_redis.pid, signal.SIGSTOP)
    with pytest.raises(RedisError):
        get_redis().get("k")
    redis_breaker().record_fallback("requests", 3)
    assert fallback_totals()["requests"] == before + 3  # this process's, while Redis is down

    os.kill(private_redis.pid, signal.SIGCONT)
    eventually(redis_available, 5, "the probe to close the breaker")
    eventually(lambda: not redis_breaker().fallbacks(), 5, "the counts handed over")
    assert int(get_redis().hget(fallbacks_key(), "requests")) == before + 3
    assert fallback_totals()["requests"] == before + 3
