"""A Celery worker must outlive its broker: Redis lost while the consumer holds a BRPOP in
flight and unacknowledged messages (portal/celery.py, the Channel.close wrapper).

Real redis-server (harness/redis_server.py), SIGKILLed; the teardown is the one the worker's
consumer runs on a lost connection (celery/worker/consumer/consumer.py,
``on_connection_error_after_connected``): ``collect()``, then ``close()`` ignoring connection
errors only. Any other error there is "Unrecoverable error" and the worker exits (status 1).
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

from kombu import Connection
from kombu.common import ignore_errors

import portal.celery  # noqa: F401  (applies the patch, as `celery -A portal worker` does)
from harness.redis_server import RedisServer


def _take_unacked(connection: Connection, channel: Any, body: dict) -> None:
    """Deliver one message to `channel` and leave it unacknowledged, as a running task is."""
    connection.SimpleQueue("tasks").put(body)
    message = channel.basic_get("tasks", no_ack=False)
    channel.qos.append(message, message.delivery_tag)


def test_teardown_after_a_killed_broker_raises_only_connection_errors(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis").start()
    connection = Connection(server.url)
    try:
        consuming: Any = connection.default_channel  # a kombu.transport.redis.Channel
        consuming.queue_declare("tasks")
        _take_unacked(connection, consuming, {"n": 1})
        consuming.basic_consume("tasks", False, lambda message: None, "consumer")
        # A second channel holding a message too (as the worker's pidbox/task channels do):
        # its failed close cuts the transport's close short, leaving the first one open.
        _take_unacked(connection, connection.channel(), {"n": 2})
        transport: Any = connection.transport  # a kombu.transport.redis.Transport
        transport.cycle.on_poll_start()  # the event loop's BRPOP, in flight
        assert consuming._in_poll

        assert server.pid is not None
        os.kill(server.pid, signal.SIGKILL)
        server.stop()

        with contextlib.suppress(Exception):  # as the consumer ignores collect()'s errors
            connection.collect(socket_timeout=1)
        # Before the fix: AttributeError: 'NoneType' object has no attribute 'hostname'.
        ignore_errors(connection, connection.close)
        assert consuming.closed
    finally:
        server.stop()
