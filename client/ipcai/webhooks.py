"""The tenant's webhook endpoints through `/api/v1/webhooks` (a key with the `manage` scope):
list them, add one (its signing secret is shown once), send a signed test event and read the
delivery log."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from ipcai.client import Client

WEBHOOKS_PATH = "/api/v1/webhooks"


def list_webhooks(client: Client) -> list[dict[str, Any]]:
    return list(client.get_json(WEBHOOKS_PATH).get("results", []))


def add_webhook(client: Client, url: str, **filters: Any) -> dict[str, Any]:
    """The new endpoint, with its `secret` (shown only in this answer)."""
    body = {"url": url, **{k: v for k, v in filters.items() if v}}
    return dict(client.send_json("POST", WEBHOOKS_PATH, body))


def send_test(client: Client, endpoint_id: str) -> dict[str, Any]:
    """Queue a signed `test` event; the delivery (pending until the worker sends it)."""
    return dict(client.send_json("POST", f"{WEBHOOKS_PATH}/{endpoint_id}/test"))


def deliveries(client: Client, endpoint_id: str) -> list[dict[str, Any]]:
    """The endpoint's latest deliveries, newest first, each with its attempts."""
    return list(client.get_json(f"{WEBHOOKS_PATH}/{endpoint_id}/deliveries").get("results", []))


def wait_for_first_attempt(
    client: Client, endpoint_id: str, delivery_id: str, timeout_s: float, stop: threading.Event
) -> dict[str, Any] | None:
    """The delivery once its first attempt is made (or it ended), else None after timeout_s."""
    waited = 0.0
    while waited <= timeout_s and not stop.is_set():
        for delivery in deliveries(client, endpoint_id):
            if delivery["id"] != delivery_id:
                continue
            if delivery["status"] != "pending" or any(map(finished, delivery["attempt_log"])):
                return delivery
        stop.wait(0.5)
        waited += 0.5
    return None


def finished(attempt: dict[str, Any]) -> bool:
    """An attempt is logged as "started: ..." before anything is sent, completed after."""
    return (
        attempt.get("ok")
        or attempt.get("status_code") is not None
        or not str(attempt.get("error", "")).startswith("started:")
    )


def attempt_summary(attempt: dict[str, Any]) -> str:
    """'HTTP 200 in 12 ms', with the error when it failed; or the error of no answer."""
    error = str(attempt.get("error") or "")
    if attempt.get("status_code") is None:
        return error or "no answer"
    text = f"HTTP {attempt['status_code']} in {round(attempt['latency_ms'])} ms"
    return f"{text} ({error})" if error and not attempt.get("ok") else text


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def format_webhooks(endpoints: list[dict[str, Any]]) -> str:
    if not endpoints:
        return "No webhook endpoints. Add one: ipcai webhooks add URL"
    rows = [("ID", "URL", "SENDS", "STATE")]
    for e in endpoints:
        sends = ",".join(e.get("event_types") or []) or "started,ended"
        state = "on" if e.get("enabled") else f"off ({e.get('disabled_reason') or 'disabled'})"
        rows.append((e["id"], e["url"], sends, state))
    return _table(rows)


def format_deliveries(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No deliveries yet. Send one: ipcai webhooks test ID"
    table = [("CREATED", "TYPE", "STATUS", "ATTEMPTS", "LAST ATTEMPT", "ID")]
    for d in rows:
        log = d.get("attempt_log") or []
        table.append(
            (
                str(d["created_at"])[:19].replace("T", " "),
                d["event_type"],
                d["status"],
                str(d["attempts"]),
                attempt_summary(log[-1]) if log else "-",
                d["id"],
            )
        )
    return _table(table)
