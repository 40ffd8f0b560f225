"""Camera events (alerts) through `/api/v1/camera-events`: list them, or follow them live.

Following polls the list: each event is printed when it is first seen (`started`) and again
when it closes (`ended`); an event still open is looked at again on every poll until it ends,
so a long visit is reported once at each end, never once per poll.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ipcai.account import _table  # the same table layout as `ipcai keys`
from ipcai.client import Client

EVENTS_PATH = "/api/v1/camera-events"
MAX_PAGES = 20  # a follow poll reads at most this many pages (50 events each)


@dataclass(frozen=True)
class CameraEvent:
    id: str
    camera: str
    label: str
    zones: tuple[str, ...]
    started_at: str
    ended_at: str | None
    max_score: float
    snapshot_url: str
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CameraEvent:
        return cls(
            id=str(data["id"]),
            camera=str(data.get("camera_name") or data.get("camera") or ""),
            label=str(data.get("label", "")),
            zones=tuple(data.get("zones") or ()),
            started_at=str(data.get("started_at", "")),
            ended_at=data.get("ended_at"),
            max_score=float(data.get("max_score") or 0.0),
            snapshot_url=str(data.get("snapshot_url", "")),
            raw=dict(data),
        )


def list_events(
    client: Client,
    *,
    camera: str | None = None,
    label: str | None = None,
    zone: str | None = None,
    since: str | None = None,
    created_since: str | None = None,
    plate: str | None = None,
    fuzzy: bool = False,
    limit: int = 50,
    pages: int = 1,
) -> list[CameraEvent]:
    """Newest first; follows the cursor for up to `pages` pages. `since`: started at or after
    (capture time); `created_since`: recorded by the service at or after; `plate`: the vehicle
    events with that plate (`fuzzy`: or one character off)."""
    wanted = {
        "camera": camera,
        "label": label,
        "zone": zone,
        "since": since,
        "created_since": created_since,
        "plate": plate,
        "plate_match": "fuzzy" if plate and fuzzy else None,
    }
    params = {k: v for k, v in wanted.items() if v}
    params["limit"] = str(limit)
    events: list[CameraEvent] = []
    url: str | None = EVENTS_PATH
    for _ in range(pages):
        if url is None:
            break
        if url.startswith("http"):  # the cursor's next link carries every parameter
            body = client.get_json(url.removeprefix(client.base_url))
        else:
            body = client.get_json(url, params)
        events.extend(CameraEvent.from_json(item) for item in body.get("results", []))
        url = body.get("next")
    return events


def follow(
    client: Client,
    on_change: Callable[[str, CameraEvent], None],
    stop: threading.Event,
    *,
    since: str | None = None,
    created_since: str | None = None,
    interval_s: float = 2.0,
    camera: str | None = None,
    label: str | None = None,
    zone: str | None = None,
    plate: str | None = None,
    fuzzy: bool = False,
) -> None:
    """Call on_change("started" | "ended", event) for each change until `stop` is set.

    With `since` (capture time), each poll asks for events started since the oldest event
    still open (or `since`), so an open event stays in view until it ends. With
    `created_since` (the service's clock), the events recorded since then: a recording replayed
    now has events that started minutes "ago" by its own clock, and they are listed too."""
    reported: dict[str, bool] = {}  # id -> ended reported
    open_since: dict[str, str] = {}
    while not stop.is_set():
        window = min([since, *open_since.values()]) if since is not None else None
        polled = list_events(
            client,
            camera=camera,
            label=label,
            zone=zone,
            since=window,
            created_since=created_since,
            plate=plate,
            fuzzy=fuzzy,
            pages=MAX_PAGES,
        )
        for event in reversed(polled):
            if event.id not in reported:
                on_change("started", event)
                reported[event.id] = False
                open_since[event.id] = event.started_at
            if event.ended_at and not reported[event.id]:
                on_change("ended", event)
                reported[event.id] = True
                open_since.pop(event.id, None)
        stop.wait(interval_s)


def plate_cell(event: CameraEvent) -> str:
    """A vehicle event's plate and the watchlists it matched: `7ABC123 [banned]`; "-" if none."""
    plate = event.raw.get("plate") or {}
    text = str(plate.get("text") or "")
    if not text:
        return "-"
    watchlists = event.raw.get("watchlists") or []
    return f"{text} [{','.join(watchlists)}]" if watchlists else text


def format_events(events: list[CameraEvent]) -> str:
    """The events as a table; a PLATE column when any of them carries a plate (a camera
    posting to license-plates), so a persons-only listing stays as narrow as before."""
    if not events:
        return "No camera events."
    plates = any(plate_cell(e) != "-" for e in events)
    rows = [("STARTED", "ENDED", "CAMERA", "CLASS", "ZONES", "SCORE", *(["PLATE"] * plates), "ID")]
    for e in events:
        rows.append(
            (
                e.started_at[:19].replace("T", " "),
                (e.ended_at or "ongoing")[:19].replace("T", " "),
                e.camera,
                e.label,
                ",".join(e.zones) or "-",
                f"{e.max_score:.2f}",
                *([plate_cell(e)] * plates),
                e.id,
            )
        )
    return _table(rows)
