"""Plate watchlists through `/api/v1/plate-watchlists` (a key with the `manage` scope): named
lists of licence plates whose matches mark camera events and send `plate.matched` webhooks."""

from __future__ import annotations

from typing import Any

from ipcai.account import _table  # the same table layout as `ipcai keys`
from ipcai.client import Client

WATCHLISTS_PATH = "/api/v1/plate-watchlists"


def list_watchlists(client: Client) -> list[dict[str, Any]]:
    return list(client.get_json(WATCHLISTS_PATH).get("results", []))


def create_watchlist(client: Client, name: str) -> dict[str, Any]:
    return dict(client.send_json("POST", WATCHLISTS_PATH, {"name": name}))


def rename_watchlist(client: Client, watchlist_id: str, name: str) -> dict[str, Any]:
    return dict(client.send_json("PATCH", f"{WATCHLISTS_PATH}/{watchlist_id}", {"name": name}))


def delete_watchlist(client: Client, watchlist_id: str) -> None:
    client.send_json("DELETE", f"{WATCHLISTS_PATH}/{watchlist_id}")


def add_plate(
    client: Client, watchlist_id: str, plate: str, *, fuzzy: bool = False, note: str = ""
) -> dict[str, Any]:
    body = {"plate": plate, "fuzzy": fuzzy, "note": note}
    return dict(client.send_json("POST", f"{WATCHLISTS_PATH}/{watchlist_id}/entries", body))


def edit_plate(
    client: Client,
    watchlist_id: str,
    entry_id: str,
    *,
    fuzzy: bool | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """An entry's match and/or note changed (None: kept). The plate itself stays: another
    plate is another entry (remove_plate, add_plate)."""
    body: dict[str, Any] = {}
    if fuzzy is not None:
        body["fuzzy"] = fuzzy
    if note is not None:
        body["note"] = note
    path = f"{WATCHLISTS_PATH}/{watchlist_id}/entries/{entry_id}"
    return dict(client.send_json("PATCH", path, body))


def remove_plate(client: Client, watchlist_id: str, entry_id: str) -> None:
    client.send_json("DELETE", f"{WATCHLISTS_PATH}/{watchlist_id}/entries/{entry_id}")


def format_watchlists(watchlists: list[dict[str, Any]]) -> str:
    if not watchlists:
        return "No plate watchlists."
    rows = [("LIST", "NAME", "ENTRY", "PLATE", "MATCH", "NOTE")]
    for watchlist in watchlists:
        entries = watchlist.get("entries") or [None]
        for entry in entries:
            rows.append(
                (
                    str(watchlist["id"]),
                    str(watchlist["name"]),
                    str(entry["id"]) if entry else "-",
                    str(entry["plate"]) if entry else "(empty)",
                    ("fuzzy" if entry["fuzzy"] else "exact") if entry else "-",
                    str(entry.get("note") or "") if entry else "",
                )
            )
    return _table(rows)
