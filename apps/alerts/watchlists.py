"""Plate watchlists: a tenant's named lists of plates, and the match that marks an event.

One write function per state change (create, rename, edit or delete a list; add, change or
remove an entry), each scoped to the tenant and shared by the API (watchlist_api.py) and the
dashboard (apps/dashboard/views/watchlists.py). Every input is checked before anything is
written, so bad input saves nothing. ``match_event`` runs when an event's voted plate changes
(frames.py): each list with an entry equal to the plate (or one character off, for a fuzzy
entry) is added to the event's ``watchlists`` and announced by one signed ``plate.matched``
webhook, once per event and list, queued in the same transaction as the mark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from apps.alerts.models import CameraEvent, PlateWatchlist, PlateWatchlistEntry
from apps.alerts.payloads import event_payload
from apps.alerts.plates import normalise, one_off
from apps.alerts.webhooks.delivery import queue_event_deliveries

MAX_NAME = 64
MAX_PLATE = 16
MAX_NOTE = 200  # PlateWatchlistEntry.note's column
MAX_ENTRIES = 500  # per list: matching reads every entry of every list per voted plate
# What a typed plate may hold: letters and digits, and the spaces, dashes and dots people
# write between groups (dropped). Anything else is a typo or a character the reader never
# returns (it reads A-Z and 0-9), so it is refused rather than silently dropped.
_TYPED_PLATE = re.compile(r"[A-Za-z0-9 .\-]*")


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


def clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise WatchlistInvalid("invalid_name", f"name: 1 to {MAX_NAME} characters.")
    return name


def clean_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise WatchlistInvalid("invalid_note", f"note: at most {MAX_NOTE} characters.")
    return note


def clean_plate(plate: str) -> str:
    """A typed plate as stored: upper-case letters and digits (spaces, dashes, dots dropped)."""
    typed = (plate or "").strip()
    shown = typed if len(typed) <= 24 else typed[:23] + "…"  # echoed in the error, bounded
    if not _TYPED_PLATE.fullmatch(typed):
        bad = "".join(sorted({c for c in typed if not _TYPED_PLATE.fullmatch(c)}))
        raise WatchlistInvalid(
            "invalid_plate",
            f"{shown!r}: a plate holds letters A-Z and digits only (not {bad[:10]!r}).",
        )
    text = normalise(typed)
    if not text or len(text) > MAX_PLATE:
        raise WatchlistInvalid(
            "invalid_plate", f"{shown!r}: a plate is 1 to {MAX_PLATE} letters or digits."
        )
    return text


def clean_plates(plates: Iterable[str]) -> list[str]:
    """Typed plates (blank ones skipped) as stored, each once, in the order given; the first
    bad one, or too many, raises WatchlistInvalid."""
    cleaned: list[str] = []
    for line_no, typed in enumerate(plates, 1):
        if not typed.strip():
            continue
        try:
            text = clean_plate(typed)
        except WatchlistInvalid as exc:
            raise WatchlistInvalid(exc.code, f"line {line_no}: {exc}") from None
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_ENTRIES:
        raise WatchlistInvalid(
            "too_many_entries",
            f"{len(cleaned)} plates: a watchlist holds at most {MAX_ENTRIES}.",
        )
    return cleaned


def _name_taken(name: str) -> WatchlistInvalid:
    return WatchlistInvalid("watchlist_exists", f"A watchlist named {name!r} exists.")


def create_watchlist(
    tenant_id: int, name: str, plates: Iterable[str] = (), fuzzy: bool = False
) -> PlateWatchlist:
    """A new list, with its plates (all exact or all fuzzy) when given."""
    name = clean_name(name)
    texts = clean_plates(plates)
    try:
        with transaction.atomic():
            watchlist = PlateWatchlist.objects.create(tenant_id=tenant_id, name=name)
            PlateWatchlistEntry.objects.bulk_create(
                PlateWatchlistEntry(watchlist=watchlist, plate=text, fuzzy=fuzzy) for text in texts
            )
    except IntegrityError as exc:
        raise _name_taken(name) from exc
    return watchlist


def rename_watchlist(watchlist: PlateWatchlist, name: str) -> PlateWatchlist:
    """The list under a new name; another list of the tenant's by that name refuses it
    (watchlist_exists, as create does) and the list keeps its name."""
    name = clean_name(name)
    if name == watchlist.name:
        return watchlist
    try:
        with transaction.atomic():  # a savepoint inside update_watchlist's transaction
            watchlist.name = name
            watchlist.save(update_fields=["name"])
    except IntegrityError as exc:
        watchlist.refresh_from_db(fields=["name"])
        raise _name_taken(name) from exc
    return watchlist


def update_watchlist(
    watchlist: PlateWatchlist, name: str, plates: Iterable[str], fuzzy: bool | None
) -> PlateWatchlist:
    """The dashboard's edit: the list's new name and exactly these plates. Plates already on
    it keep their note; ``fuzzy`` sets every plate's match (None: each kept plate keeps its
    own, new ones are exact). Nothing is written unless all of it is valid."""
    name = clean_name(name)
    texts = clean_plates(plates)
    current = {entry.plate: entry for entry in watchlist.entries.all()}
    try:
        with transaction.atomic():
            rename_watchlist(watchlist, name)
            gone = [entry.pk for plate, entry in current.items() if plate not in texts]
            PlateWatchlistEntry.objects.filter(pk__in=gone).delete()
            if fuzzy is not None:
                PlateWatchlistEntry.objects.filter(watchlist=watchlist).exclude(fuzzy=fuzzy).update(
                    fuzzy=fuzzy
                )
            PlateWatchlistEntry.objects.bulk_create(
                PlateWatchlistEntry(watchlist=watchlist, plate=text, fuzzy=bool(fuzzy))
                for text in texts
                if text not in current
            )
    except IntegrityError as exc:
        # A plate added to the list (through the API) while this edit was saving.
        watchlist.refresh_from_db(fields=["name"])
        raise WatchlistInvalid(
            "entry_exists", "The list changed while saving; nothing was saved, try again."
        ) from exc
    return watchlist


def delete_watchlist(watchlist: PlateWatchlist) -> None:
    watchlist.delete()


def add_entry(
    watchlist: PlateWatchlist, plate: str, fuzzy: bool = False, note: str = ""
) -> PlateWatchlistEntry:
    text = clean_plate(plate)
    note = clean_note(note or "")
    try:
        with transaction.atomic():
            # The list's row locked: two adds at once cannot both pass the size check.
            PlateWatchlist.objects.select_for_update().filter(pk=watchlist.pk).first()
            if PlateWatchlistEntry.objects.filter(watchlist=watchlist).count() >= MAX_ENTRIES:
                raise WatchlistInvalid(
                    "too_many_entries", f"{watchlist.name} holds {MAX_ENTRIES} plates, the most."
                )
            return PlateWatchlistEntry.objects.create(
                watchlist=watchlist, plate=text, fuzzy=bool(fuzzy), note=note
            )
    except IntegrityError as exc:
        raise WatchlistInvalid("entry_exists", f"{text} is on {watchlist.name} already.") from exc


def watchlist_entry(watchlist: PlateWatchlist, entry_id: int | str) -> PlateWatchlistEntry | None:
    try:
        pk = int(entry_id)
    except (TypeError, ValueError):
        return None
    return PlateWatchlistEntry.objects.filter(watchlist=watchlist, pk=pk).first()


def update_entry(
    entry: PlateWatchlistEntry, *, fuzzy: bool | None = None, note: str | None = None
) -> PlateWatchlistEntry:
    """An entry's match and/or note changed (None: kept as it is). The plate itself is not
    changed in place: another plate is another entry (remove this one, add that one)."""
    if fuzzy is None and note is None:
        raise WatchlistInvalid(
            "nothing_to_change", "Nothing to change: give a note, fuzzy or both."
        )
    wanted = {"fuzzy": fuzzy, "note": None if note is None else clean_note(note)}
    changed = [f for f, value in wanted.items() if value is not None and getattr(entry, f) != value]
    for field in changed:
        setattr(entry, field, wanted[field])
    if changed:
        entry.save(update_fields=changed)
    return entry


def delete_entry(watchlist: PlateWatchlist, entry_id: int | str) -> bool:
    entry = watchlist_entry(watchlist, entry_id)
    if entry is None:
        return False
    entry.delete()
    return True


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
