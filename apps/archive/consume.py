"""Consuming the archive outbox: store each entry, acknowledge it, and reconcile what crashes
and lost wake-up calls leave behind.

One entry is handled by ``handle``: store image, record and index row (all create-once, so a
second delivery writes nothing), then ``XACK`` + ``XDEL``. A storage or database failure leaves
the entry pending and asks for a retry with backoff; whatever happens to that retry (the process
is killed, the broker drops the message), the entry stays pending and the sweep hands it on.

The sweep (Celery beat every ``IPCAI_ARCHIVE_SWEEP_S``, and once when a worker starts) is the
reconciliation job. It takes entries pending longer than ``IPCAI_ARCHIVE_CLAIM_AFTER_S`` (their
consumer died, or their retry was lost) and entries never delivered for that long (their wake-up
call was lost), logs each, and dispatches them again; entries older than
``IPCAI_ARCHIVE_ENTRY_TTL_S`` that still cannot be stored are dropped with an ERROR line. The
counters (stored, reconciled, dropped) and the backlog are in apps/archive/status.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError

from apps.archive import outbox
from apps.archive.outbox import Entry
from apps.archive.store import store_event
from apps.core.heartbeats import beat
from apps.core.storage import StorageError

logger = logging.getLogger(__name__)

SWEEPER = "sweeper"  # the consumer name reclaimed entries wait under until a task takes them
SWEEP_BATCH = 500  # per kind and sweep: a backlog is handed out over several sweeps


def handle(entry: Entry, *, attempt: int = 1, reconciled: bool = False) -> bool:
    """Store the entry's event and acknowledge it; False when it must be retried."""
    if entry.message is None:
        # Not JSON we wrote: it will never become readable, and it must not block the stream.
        logger.error("archive outbox entry %s is unreadable; dropped", entry.entry_id)
        outbox.done(entry.entry_id, outbox.DROPPED)
        return True
    event_id = entry.message.get("event_id")
    try:
        store_event(entry.message, image=entry.image)
    except (StorageError, DatabaseError, ValueError, KeyError) as exc:
        malformed = isinstance(exc, ValueError | KeyError)  # never becomes storable
        if malformed or entry.age_s > settings.IPCAI_ARCHIVE_ENTRY_TTL_S:
            logger.error(
                "archive event %s (request %s) dropped after %d attempts over %.0f s: %s",
                event_id,
                entry.message.get("portal_request_id"),
                attempt,
                entry.age_s,
                exc,
            )
            outbox.done(entry.entry_id, outbox.DROPPED)
            return True
        logger.warning(
            "archiving event %s (request %s) failed (attempt %d), retrying: %s",
            event_id,
            entry.message.get("portal_request_id"),
            attempt,
            exc,
        )
        return False
    outbox.done(entry.entry_id, outbox.RECONCILED if reconciled else outbox.STORED)
    return True


@dataclass(frozen=True)
class SweepResult:
    reclaimed: int  # pending too long under a consumer that died or went silent
    undelivered: int  # never handed to anyone for too long (wake-up call lost)
    consumers_forgotten: int


def sweep(dispatch: Callable[[str], None]) -> SweepResult:
    """Hand every entry that waited too long to `dispatch` (which queues a task that claims it).

    The entries are first moved under the SWEEPER consumer, which restarts their idle clock: a
    second sweep before the task runs does not hand them out twice, and a task that is lost in
    turn leaves them idle under SWEEPER, where the next sweep after the claim bound finds them.
    """
    bound = settings.IPCAI_ARCHIVE_CLAIM_AFTER_S
    reclaimed = outbox.claim_idle(SWEEPER, bound, SWEEP_BATCH)
    for entry in reclaimed:
        logger.warning(
            "archive event %s (outbox entry %s, %.0f s old) was held by a consumer that went "
            "silent; handing it on",
            (entry.message or {}).get("event_id"),
            entry.entry_id,
            entry.age_s,
        )
        dispatch(entry.entry_id)
    undelivered: list[Entry] = []
    while len(undelivered) < SWEEP_BATCH:
        age = outbox.oldest_undelivered_age_s()
        if age is None or age < bound:
            break
        batch = outbox.read_new(SWEEPER, count=min(100, SWEEP_BATCH - len(undelivered)))
        if not batch:
            break
        undelivered += batch
    for entry in undelivered:
        logger.warning(
            "archive event %s (outbox entry %s) waited %.0f s undelivered; handing it on",
            (entry.message or {}).get("event_id"),
            entry.entry_id,
            entry.age_s,
        )
        dispatch(entry.entry_id)
    forgotten = outbox.forget_idle_consumers(idle_s=max(3600.0, 10 * bound))
    beat("archive_sweep")
    return SweepResult(len(reclaimed), len(undelivered), forgotten)
