"""The archive outbox: one Redis Stream entry per request event, held until it is stored.

Why not a Celery message per event: Celery's Redis transport pops a message and records it as
unacknowledged in a second step (celery/celery#7950, kombu#305), so a Celery process group
killed between the two loses the event with no log line (measured: 1 of 300 per kill). A
stream entry cannot fall into such a gap: ``XADD`` on the request path makes it durable (as
durable as Redis: AOF), ``XREADGROUP`` hands it to one consumer and at the same moment records
it in the group's pending list under that consumer's name, and it leaves Redis only through
``XACK`` + ``XDEL`` after the image, the record and the index row are written. A consumer that
dies leaves its entries pending; ``XAUTOCLAIM`` (apps/archive/consume.py's sweep) hands entries
idle longer than the claim bound to a live consumer.

The image bytes travel in the entry beside the JSON message, raw (a stream field is a binary
string: no base64, ~0.2 ms for 200 KB as with the ``SET`` it replaces), so the image and its
record can never be separated: there is no staged image without its event to leak.

The outbox lives in the portal's Redis (``REDIS_URL``), which is also Celery's broker unless
``CELERY_BROKER_URL`` says otherwise; Celery only carries wake-up calls (see tasks.py).
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError
from redis.typing import EncodableT, FieldT

from apps.core.redis import get_redis, redis_key, reply_text

GROUP = "archivers"
MESSAGE_FIELD = b"m"
IMAGE_FIELD = b"i"
# Counters behind the admin line and the Prometheus gauges (apps/archive/status.py).
STORED, RECONCILED, DROPPED = "stored", "reconciled", "dropped"


def stream_key() -> str:
    return redis_key("archive", "outbox")


def stats_key() -> str:
    return redis_key("archive", "outbox-stats")


def consumer_name() -> str:
    """This process's name in the group: a pool child killed with its entries pending is told
    apart from a live one by the idle time of what it holds."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Entry:
    entry_id: str
    message: dict[str, Any] | None  # None: the entry is unreadable (never becomes readable)
    image: bytes | None

    @property
    def added_at(self) -> float:
        """Unix time of the XADD (a stream id is `<milliseconds>-<sequence>`)."""
        return int(self.entry_id.split("-", 1)[0]) / 1000.0

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.added_at)

    @classmethod
    def parse(cls, entry_id: bytes | str, fields: dict[bytes, bytes] | None) -> Entry:
        entry_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        try:
            message = json.loads(fields[MESSAGE_FIELD]) if fields else None
        except (KeyError, ValueError):
            message = None
        image = fields.get(IMAGE_FIELD) if fields else None
        return cls(entry_id, message if isinstance(message, dict) else None, image or None)


def add(message: dict[str, Any], image: bytes | None) -> str:
    """Make the event durable (one round trip); returns the entry id. Raises RedisError."""
    fields: dict[FieldT, EncodableT] = {MESSAGE_FIELD: json.dumps(message, separators=(",", ":"))}
    if image:
        fields[IMAGE_FIELD] = image
    return reply_text(get_redis().xadd(stream_key(), fields))


def ensure_group() -> None:
    """Create the consumer group once (id 0: it sees every entry ever added, including those
    added before it existed). Redis answers BUSYGROUP when it exists already."""
    try:
        get_redis().xgroup_create(stream_key(), GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _with_group(call):
    """Run a group command, creating the group first if Redis does not know it (a fresh Redis,
    or one restarted without its append-only file)."""
    try:
        return call()
    except ResponseError as exc:
        if "NOGROUP" not in str(exc):
            raise
    ensure_group()
    return call()


def read_new(consumer: str, count: int = 1) -> list[Entry]:
    """Entries never delivered to anyone, oldest first; each is now pending under `consumer`."""
    reply = _with_group(
        lambda: get_redis().xreadgroup(GROUP, consumer, {stream_key(): ">"}, count=count)
    )
    return [Entry.parse(i, f) for _, entries in reply or () for i, f in entries]


def claim(consumer: str, entry_id: str) -> Entry | None:
    """Take one pending entry over (whoever held it) and restart its idle clock; None when it
    is no longer pending (stored and acknowledged meanwhile)."""
    reply = _with_group(lambda: get_redis().xclaim(stream_key(), GROUP, consumer, 0, [entry_id]))
    for claimed_id, fields in reply or ():
        if fields is not None:
            return Entry.parse(claimed_id, fields)
    return None


def claim_idle(consumer: str, min_idle_s: float, count: int) -> list[Entry]:
    """Up to `count` entries pending longer than `min_idle_s` under any consumer (one that died,
    or one whose wake-up call was lost), now pending under `consumer`."""
    found: list[Entry] = []
    start = "0-0"
    while len(found) < count:
        wanted = count - len(found)
        reply = _with_group(
            lambda start=start, wanted=wanted: get_redis().xautoclaim(
                stream_key(), GROUP, consumer, int(min_idle_s * 1000), start_id=start, count=wanted
            )
        )
        start, entries = reply[0], reply[1]
        found += [Entry.parse(i, f) for i, f in entries if f is not None]
        if start in (b"0-0", "0-0"):
            break
    return found


def oldest_undelivered_age_s() -> float | None:
    """Age of the oldest entry no consumer has been handed yet (its wake-up call lost, or a
    backlog), or None when there is none."""
    r = get_redis()
    groups = _with_group(lambda: r.xinfo_groups(stream_key()))
    group = next((g for g in groups if g["name"] in (GROUP, GROUP.encode())), None)
    last = group["last-delivered-id"] if group else b"0-0"
    last = last.decode() if isinstance(last, bytes) else last
    after = r.xrange(stream_key(), min=f"({last}", count=1)
    entry_id = after[0][0] if after else None
    return Entry.parse(entry_id, None).age_s if entry_id is not None else None


def done(entry_id: str, outcome: str) -> None:
    """Acknowledge and delete the entry (it is stored, or dropped for good) and count it."""
    pipe = get_redis().pipeline(transaction=True)
    pipe.xack(stream_key(), GROUP, entry_id)
    pipe.xdel(stream_key(), entry_id)
    pipe.hincrby(stats_key(), outcome, 1)
    pipe.execute()


def forget_idle_consumers(idle_s: float) -> int:
    """Remove consumers that hold nothing and were idle for `idle_s` (pool children long gone),
    so the group's consumer list does not grow with every restart."""
    r = get_redis()
    removed = 0
    for consumer in _with_group(lambda: r.xinfo_consumers(stream_key(), GROUP)):
        if consumer["pending"] == 0 and consumer["idle"] > idle_s * 1000:
            r.xgroup_delconsumer(stream_key(), GROUP, consumer["name"])
            removed += 1
    return removed


@dataclass(frozen=True)
class OutboxStats:
    entries: int  # in Redis now: not yet delivered, or delivered and not yet stored
    pending: int  # of those, handed to a consumer (working on it, retrying, or dead)
    stored: int
    reconciled: int  # stored after the sweep took them from a dead or silent consumer
    dropped: int

    def as_dict(self) -> dict[str, int]:
        return {
            "entries": self.entries,
            "pending": self.pending,
            "stored": self.stored,
            "reconciled": self.reconciled,
            "dropped": self.dropped,
        }


def stats() -> OutboxStats:
    r = get_redis()
    pipe = r.pipeline(transaction=False)
    pipe.xlen(stream_key())
    pipe.hgetall(stats_key())
    entries, counters = pipe.execute()
    try:
        pending = r.xpending(stream_key(), GROUP)["pending"] if entries else 0
    except ResponseError:  # no group yet
        pending = 0
    value = {k.decode(): int(v) for k, v in counters.items()}
    return OutboxStats(
        entries=entries,
        pending=pending,
        stored=value.get(STORED, 0),
        reconciled=value.get(RECONCILED, 0),
        dropped=value.get(DROPPED, 0),
    )
