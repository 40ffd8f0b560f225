"""Usage metering: one event per API request, queued in Redis, stored in batches.

The request path does one pipelined Redis round trip (RPUSH the event, HSET the key's last use);
a periodic Celery task (and `manage.py drain_usage`) moves events into the database with
bulk_create and adds them to the daily roll-ups. So a busy camera costs no database write.

When Redis refuses the event (down, restarting), it goes to the host's durable spool, the one
archive events use (apps/core/spool.py), and is pushed onto the queue when Redis is back. The
503s answered during such an outage are metered like any other answer, as errors, so the
month's report shows what the cameras saw.
"""

from __future__ import annotations

import hmac
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from redis.exceptions import RedisError

from apps.core.breaker import RedisUnavailable
from apps.core.heartbeats import beat
from apps.core.redis import get_redis, redis_key
from apps.core.spool import USAGE
from apps.core.spool_replay import spool_for_replay
from apps.core.spool_writer import spool_in_background
from apps.tenants.keys import hash_key, public_id_of
from apps.tenants.models import ApiKey, Tenant
from apps.tenants.services import record_keys_last_used
from apps.usage.anonymous import count_anonymous
from apps.usage.models import DailyUsage, DailyVideoUsage, UsageEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Usage:
    """What one request cost; the fields of UsageEvent, as queued."""

    request_id: str
    timestamp: float
    endpoint: str
    status_code: int
    latency_ms: float
    tenant_id: int | None = None
    api_key_id: int | None = None
    application_type: str = ""
    error_code: str = ""
    objects: int = 0
    image_bytes: int = 0
    # Objects found per service, aligned with the comma-separated application_type: a
    # DeepStack request runs every enabled service and rolls up into each of them.
    objects_per_service: tuple[int, ...] = ()
    model: str = ""  # the model(s) that answered, comma-separated
    camera: str = ""  # the request's camera (its public id), if it had one
    # Only when the key could not be checked (Redis down during authentication: a 503):
    # key_claim() of the presented key, verified against the database when drained, so the
    # outage's 503s count against the tenant whose key it was (and nobody else's).
    claimed_key: str = ""


def key_claim(raw_key: str) -> str:
    """`<public id>:<keyed hash>` of a presented key, or "" when it is not one of ours. The hash
    is the one stored for the key (HMAC with the portal's secret): verifying it later needs the
    database, not Redis, and the claim says nothing a database dump does not."""
    public_id = public_id_of(raw_key)
    return f"{public_id}:{hash_key(raw_key)}" if public_id else ""


def queue_key() -> str:
    return redis_key("usage", "queue")


def last_used_key() -> str:
    return redis_key("usage", "last_used")


def record_usage(usage: Usage) -> None:
    """Queue the event (and the key's last use) in one Redis round trip, or spool it.

    The answer has already been decided: Redis trouble never turns the camera's result into an
    error. Only Redis down *and* the spool's disk refusing loses the event (logged ERROR).
    Requests without a valid key (and no key to attribute them to later) are only counted
    (apps/usage/anonymous.py).
    """
    if usage.tenant_id is None and not getattr(usage, "claimed_key", ""):
        count_anonymous(usage.endpoint, usage.status_code, usage.error_code, usage.timestamp)
        return
    payload = orjson.dumps(usage)
    pipe = get_redis().pipeline(transaction=False)
    pipe.rpush(queue_key(), payload)
    if usage.api_key_id is not None:
        pipe.hset(last_used_key(), str(usage.api_key_id), usage.timestamp)
    try:
        pipe.execute()
    except RedisUnavailable:
        # Known down (apps/core/breaker.py): the disk write happens in the writer thread, so
        # an outage adds no fsync to each answer's latency (apps/core/spool_writer.py).
        spool_in_background(USAGE, usage.request_id, payload)
    except RedisError as exc:
        if spool_for_replay(USAGE, usage.request_id, payload):
            logger.warning("usage event %s spooled: %s", usage.request_id, exc)
        else:
            logger.error("usage event %s lost: Redis and the spool refused it", usage.request_id)


def requeue_spooled_usage(payload: bytes) -> None:
    """Replay of one spooled usage event (settings.IPCAI_SPOOL_REPLAY): back onto the queue.
    Raises while Redis is still down, which keeps the file."""
    get_redis().rpush(queue_key(), payload)


def drain_usage(batch_size: int | None = None) -> int:
    """Move queued events into the database; returns how many were stored."""
    batch_size = batch_size or settings.IPCAI_USAGE_DRAIN_BATCH
    r = get_redis()
    stored = 0
    while True:
        # LRANGE+LTRIM in one MULTI: concurrent drains take disjoint batches.
        pipe = r.pipeline(transaction=True)
        pipe.lrange(queue_key(), 0, batch_size - 1)
        pipe.ltrim(queue_key(), batch_size, -1)
        raw_events, _ = pipe.execute()
        if not raw_events:
            break
        try:
            stored += _store_once([orjson.loads(raw) for raw in raw_events])
        except Exception:
            # Put the batch back at the head, in order, so nothing is lost; the next drain retries.
            r.lpush(queue_key(), *reversed(raw_events))
            raise
        if len(raw_events) < batch_size:
            break
    _flush_last_used()
    beat("drain")
    return stored


def _store_once(events: list[dict]) -> int:
    """store_events, again if another drain stored one of these requests meanwhile.

    Two drains (two beats during a deploy, a manual `drain_usage` beside the periodic one) take
    disjoint batches, but a request queued twice (spooled and replayed after Redis took it) can
    sit in both: each drain checks its batch is not stored yet, then both insert. The unique
    request id makes the second insert fail and roll back its whole batch, roll-ups included;
    the retry then finds the other drain's rows and stores only the rest."""
    try:
        return store_events(events)
    except IntegrityError:
        logger.info("usage drain: another drain stored part of this batch; storing the rest")
        return store_events(events)


@transaction.atomic
def store_events(events: list[dict]) -> int:
    """bulk_create the events and add them to the daily roll-ups, in one transaction."""
    events = _not_stored_yet(events)
    _attribute_claimed_keys(events)
    # Tenants or keys deleted since the request would violate foreign keys: drop those links.
    tenant_ids = set(
        Tenant.objects.filter(
            pk__in={e["tenant_id"] for e in events if e["tenant_id"]}
        ).values_list("pk", flat=True)
    )
    key_ids = set(
        ApiKey.objects.filter(
            pk__in={e["api_key_id"] for e in events if e["api_key_id"]}
        ).values_list("pk", flat=True)
    )
    rows = []
    rollups: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for e in events:
        tenant_id = e["tenant_id"] if e["tenant_id"] in tenant_ids else None
        if e["tenant_id"] and tenant_id is None:
            continue  # the tenant is gone, and its usage with it
        created_at = datetime.fromtimestamp(e["timestamp"], tz=UTC)
        rows.append(
            UsageEvent(
                created_at=created_at,
                request_id=e["request_id"],
                tenant_id=tenant_id,
                api_key_id=e["api_key_id"] if e["api_key_id"] in key_ids else None,
                application_type=e["application_type"],
                endpoint=e["endpoint"],
                status_code=e["status_code"],
                error_code=e["error_code"],
                latency_ms=e["latency_ms"],
                objects_found=e["objects"],
                image_bytes=e["image_bytes"],
                model=e.get("model", ""),
                camera=e.get("camera", ""),
            )
        )
        if tenant_id is None:
            continue
        services = e["application_type"].split(",")
        per_service = list(e.get("objects_per_service") or [e["objects"]])
        per_service += [0] * (len(services) - len(per_service))
        for position, (application_type, objects) in enumerate(
            zip(services, per_service, strict=False)
        ):
            totals = rollups[(tenant_id, application_type, created_at.date())]
            if position == 0:  # the call itself, once however many services it ran
                totals["calls"] += 1
                totals["failed_calls"] += e["status_code"] >= 400
            totals["requests"] += 1
            totals["errors"] += e["status_code"] >= 400
            totals["objects_found"] += objects
            totals["image_bytes"] += e["image_bytes"]
            totals["latency_ms_total"] += e["latency_ms"]
    UsageEvent.objects.bulk_create(rows, batch_size=500)
    for (tenant_id, application_type, day), totals in rollups.items():
        DailyUsage.objects.get_or_create(
            tenant_id=tenant_id, application_type=application_type, day=day
        )
        DailyUsage.objects.filter(
            tenant_id=tenant_id, application_type=application_type, day=day
        ).update(
            requests=F("requests") + int(totals["requests"]),
            errors=F("errors") + int(totals["errors"]),
            objects_found=F("objects_found") + int(totals["objects_found"]),
            image_bytes=F("image_bytes") + int(totals["image_bytes"]),
            latency_ms_total=F("latency_ms_total") + totals["latency_ms_total"],
            calls=F("calls") + int(totals["calls"]),
            failed_calls=F("failed_calls") + int(totals["failed_calls"]),
        )
    return len(rows)


def _not_stored_yet(events: list[dict]) -> list[dict]:
    """Each request once. Redis can take the RPUSH and die before it answers: the portal then
    spools the event too, the replay queues it again, and without this the request would be
    stored and billed twice (caught by the Redis-kill fault test). One indexed query per batch.
    """
    by_id: dict[str, dict] = {}
    for event in events:
        by_id.setdefault(event["request_id"], event)
    stored = set(
        UsageEvent.objects.filter(request_id__in=list(by_id)).values_list("request_id", flat=True)
    )
    twice = len(events) - len(by_id) + len(stored)
    if twice:
        logger.info("usage drain: %d events were queued twice; each is stored once", twice)
    return [event for request_id, event in by_id.items() if request_id not in stored]


def _attribute_claimed_keys(events: list[dict]) -> None:
    """Give events whose key could not be checked at request time the tenant and key of that
    key, when the claimed hash matches the stored one (one query per batch). The request never
    got to choose its service, so it counts against the tenant's default one."""
    claims = {
        e["claimed_key"].split(":", 1)[0]
        for e in events
        if not e["tenant_id"] and e.get("claimed_key")
    }
    if not claims:
        return
    keys = {
        key.public_id: key
        for key in ApiKey.objects.filter(public_id__in=claims)
        .select_related("tenant")
        .only("pk", "public_id", "secret_hash", "tenant__default_application_type")
    }
    for e in events:
        if e["tenant_id"] or not e.get("claimed_key"):
            continue
        public_id, digest = e["claimed_key"].split(":", 1)
        key = keys.get(public_id)
        if key is not None and hmac.compare_digest(digest, key.secret_hash):
            e["tenant_id"], e["api_key_id"] = key.tenant_id, key.pk
            e["application_type"] = e["application_type"] or key.tenant.default_application_type


def _flush_last_used() -> None:
    pipe = get_redis().pipeline(transaction=True)
    pipe.hgetall(last_used_key())
    pipe.delete(last_used_key())
    last_used, _ = pipe.execute()
    if last_used:
        record_keys_last_used(
            {int(k): datetime.fromtimestamp(float(v), tz=UTC) for k, v in last_used.items()}
        )


def calls_this_month(tenant_id: int, month_start: datetime) -> int:
    """The tenant's calls stored since `month_start` (UTC): where the quota starts counting
    while Redis, and its month counter, are down (apps/tenants/limits.py)."""
    total = DailyUsage.objects.filter(tenant_id=tenant_id, day__gte=month_start.date()).aggregate(
        calls=Sum("calls")
    )["calls"]
    return int(total or 0)


def record_video_seconds(
    tenant_id: int, application_type: str, video_seconds: float, frames: int, day: date
) -> None:
    """Book one finished video job's media seconds, once, under its first service (the way a
    several-service call counts once in `calls`), so the month's sum is the media analysed."""
    row, _ = DailyVideoUsage.objects.get_or_create(
        tenant_id=tenant_id, application_type=application_type, day=day
    )
    DailyVideoUsage.objects.filter(pk=row.pk).update(
        jobs=F("jobs") + 1,
        video_seconds=F("video_seconds") + video_seconds,
        frames=F("frames") + frames,
    )


def video_seconds_this_month(tenant_id: int, month_start: date) -> float:
    """Video seconds booked since `month_start`: what the monthly video quota counts."""
    total = DailyVideoUsage.objects.filter(tenant_id=tenant_id, day__gte=month_start).aggregate(
        total=Sum("video_seconds")
    )["total"]
    return float(total or 0.0)
