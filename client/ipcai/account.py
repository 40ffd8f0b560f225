"""The tenant's own API keys and usage, through `/api/v1/keys` and `/api/v1/usage`.

The service scopes both to the tenant of the key making the call: a key sees and revokes only
its own tenant's keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ipcai.client import Client
from ipcai.text import plural

KEYS_PATH = "/api/v1/keys"
USAGE_PATH = "/api/v1/usage"


@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key as listed: never the secret, only what identifies it."""

    id: str
    prefix: str
    name: str
    created_at: str | None
    last_used_at: str | None
    expires_at: str | None
    revoked_at: str | None
    active: bool
    current: bool  # the key making this call
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    scopes: tuple[str, ...] = ()  # detect, events:read, manage

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApiKeyInfo:
        return cls(
            id=str(data["id"]),
            prefix=str(data.get("prefix", "")),
            name=str(data.get("name") or ""),
            created_at=data.get("created_at"),
            last_used_at=data.get("last_used_at"),
            expires_at=data.get("expires_at"),
            revoked_at=data.get("revoked_at"),
            active=bool(data.get("active", data.get("revoked_at") is None)),
            current=bool(data.get("current", False)),
            raw=dict(data),
            scopes=tuple(str(s) for s in data.get("scopes") or ()),
        )


@dataclass(frozen=True)
class UsageDay:
    """Requests of one service on one day (UTC)."""

    date: str
    service: str
    requests: int
    successes: int
    errors: int
    objects: int
    mean_latency_ms: float | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UsageDay:
        return cls(
            date=str(data["date"]),
            service=str(data.get("application_type") or data.get("service") or ""),
            requests=int(data.get("requests", 0)),
            successes=int(data.get("successes", 0)),
            errors=int(data.get("errors", 0)),
            objects=int(data.get("objects", 0)),
            mean_latency_ms=data.get("mean_latency_ms"),
        )


@dataclass(frozen=True)
class Usage:
    """Daily usage over a period, plus this month's quota position."""

    days: tuple[UsageDay, ...]
    monthly_quota: int | None
    used_this_month: int | None
    # Each API call once, as the quota counts them (None from a service that predates it): a
    # DeepStack call is in the day rows of every service it ran.
    requests: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Usage:
        quota = data.get("quota") or {}
        return cls(
            days=tuple(UsageDay.from_json(d) for d in data.get("days", ())),
            monthly_quota=quota.get("monthly_request_quota"),
            used_this_month=quota.get("used_this_month"),
            requests=(data.get("totals") or {}).get("requests"),
            raw=dict(data),
        )


def list_keys(client: Client) -> list[ApiKeyInfo]:
    return [ApiKeyInfo.from_json(k) for k in client.get_json(KEYS_PATH)["keys"]]


def create_key(
    client: Client,
    *,
    name: str = "",
    expires_in_days: int | None = None,
    scopes: Sequence[str] | None = None,
) -> tuple[ApiKeyInfo, str]:
    """A new key of the caller's tenant, and its secret (returned this once only). Without
    `scopes` the portal gives it detect only; it never gives more than the calling key has."""
    payload: dict[str, Any] = {"name": name}
    if expires_in_days is not None:
        payload["expires_in_days"] = expires_in_days
    if scopes:
        payload["scopes"] = list(scopes)
    data = client.send_json("POST", KEYS_PATH, payload)
    return ApiKeyInfo.from_json(data["key"]), str(data["secret"])


def revoke_key(client: Client, key_id: str) -> ApiKeyInfo:
    """Revoke one of the tenant's keys, by public id or by its `ipcai_<id>` prefix."""
    key_id = key_id.removeprefix("ipcai_").split("_", 1)[0]
    data = client.send_json("POST", f"{KEYS_PATH}/{key_id}/revoke")
    return ApiKeyInfo.from_json(data["key"])


def get_usage(client: Client, *, days: int = 30, service: str | None = None) -> Usage:
    params: dict[str, Any] = {"days": days}
    if service:
        params["application_type"] = service
    return Usage.from_json(client.get_json(USAGE_PATH, params=params))


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def format_keys(keys: Sequence[ApiKeyInfo]) -> str:
    rows = [("id", "name", "scopes", "created", "last used", "expires", "state")]
    for key in keys:
        state = "active" if key.active else ("revoked" if key.revoked_at else "expired")
        rows.append(
            (
                f"{key.id} *" if key.current else key.id,
                key.name or "-",
                ",".join(key.scopes) or "-",
                (key.created_at or "-")[:16],
                (key.last_used_at or "never")[:16],
                (key.expires_at or "never")[:16],
                state,
            )
        )
    return _table(rows) + "\n(* the key used for this call)"


def format_usage(usage: Usage) -> str:
    rows = [("date", "service", "requests", "ok", "errors", "objects", "mean latency")]
    for day in usage.days:
        rows.append(
            (
                day.date,
                day.service,
                str(day.requests),
                str(day.successes),
                str(day.errors),
                str(day.objects),
                "-" if day.mean_latency_ms is None else f"{day.mean_latency_ms:.0f} ms",
            )
        )
    total = usage.requests if usage.requests is not None else sum(d.requests for d in usage.days)
    active_days = len({d.date for d in usage.days})
    lines = [_table(rows), f"{plural(total, 'request')} in {plural(active_days, 'active day')}"]
    if len({d.service for d in usage.days}) > 1:
        lines.append(
            "(a service's row counts the requests it answered; a DeepStack call runs every "
            "enabled service and is in each of their rows, but once in the total)"
        )
    if usage.used_this_month is not None:
        quota = "unlimited" if usage.monthly_quota is None else str(usage.monthly_quota)
        lines.append(
            f"quota used this month: {usage.used_this_month} of {quota} (requests refused before "
            "they ran, e.g. an unknown camera or over the rate limit, are in the rows above but "
            "not in the quota)"
        )
    return "\n".join(lines)
