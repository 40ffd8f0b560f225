"""Plate watchlists: a tenant's named lists of plates, and the match that marks an event.

One write function per state change (create or delete a list, add or remove an entry), each
scoped to the tenant. ``match_event`` runs when an event's voted plate changes (frames.py): each
list with an entry equal to the plate (or one character off, for a fuzzy entry) is added to the
event's ``watchlists`` and announced by one signed ``plate.matched`` webhook, once per event and
list, queued in the same transaction as the mark.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from apps.alerts.models import CameraEvent, PlateWatchlist, PlateWatchlistEntry
from apps.alerts.payloads import event_payload
from apps.alerts.plates import normalise, one_off
from apps.alerts.webhooks.delivery import queue_event_deliveries

MAX_NAME = 64
MAX_PLATE = 16


class WatchlistInvalid(ValueError):
    """Bad input for a watchlist or an entry: the message says what."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def tenant_watchlists(tenant_id: int) -> QuerySet[PlateWatchlist]:
    return PlateWatchlist.objects.filter(tenant_id=tenant_id).prefetch_related("entries")


def tenant_watchlist(tenant_id: int, watchlist_id: int | str) -> PlateWatchlist | None:
    try:
        pk = int(watchlist_id)
    except (TypeError, ValueError):
        return None
    return PlateWatchlist.objects.filter(tenant_id=tenant_id, pk=pk).first()


def create_watchlist(tenant_id: int, name: str) -> PlateWatchlist:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise WatchlistInvalid("invalid_name", f"name: 1 to {MAX_NAME} characters.")
    try:
        with transaction.atomic():
            return PlateWatchlist.objects.create(tenant_id=tenant_id, name=name)
    except IntegrityError as exc:
        raise WatchlistInvalid("watchlist_exists", f"A watchlist named {name!r} exists.") from exc


def delete_watchlist(watchlist: PlateWatchlist) -> None:
    watchlist.delete()


def add_entry(
    watchlist: PlateWatchlist, plate: str, fuzzy: bool = False, note: str = ""
) -> PlateWatchlistEntry:
    text = normalise(plate or "")
    if not text or len(text) > MAX_PLATE:
        raise WatchlistInvalid(
            "invalid_plate", f"plate: 1 to {MAX_PLATE} letters or digits (others are ignored)."
        )
    try:
        with transaction.atomic():
            return PlateWatchlistEntry.objects.create(
                watchlist=watchlist, plate=text, fuzzy=bool(fuzzy), note=(note or "")[:200]
            )
    except IntegrityError as exc:
        raise WatchlistInvalid("entry_exists", f"{text} is on {watchlist.name} already.") from exc


def delete_entry(watchlist: PlateWatchlist, entry_id: int | str) -> bool:
    try:
        pk = int(entry_id)
    except (TypeError, ValueError):
        return False
    deleted, _ = PlateWatchlistEntry.objects.filter(watchlist=watchlist, pk=pk).delete()
    return deleted > 0


def entry_matches(entry: PlateWatchlistEntry, plate: str) -> bool:
    return entry.plate == plate or (entry.fuzzy and one_off(entry.plate, plate))


def match_event(event: CameraEvent) -> list[str]:
    """Mark the event with every list its plate newly matches and queue one plate.matched
    webhook per such list; the names newly matched."""
    if not event.plate_text:
        return []
    new = [
        watchlist.name
        for watchlist in tenant_watchlists(event.tenant_id)
        if watchlist.name not in (event.watchlists or [])
        and any(entry_matches(entry, event.plate_text) for entry in watchlist.entries.all())
    ]
    if not new:
        return []
    with transaction.atomic():
        event.watchlists = sorted({*(event.watchlists or []), *new})
        event.save(update_fields=["watchlists"])
        for name in new:
            payload = event_payload(event, "plate.matched")
            payload["data"]["watchlist"] = name
            queue_event_deliveries(event, "plate.matched", payload)
    return new
