"""When a camera frame was captured, as the client says, else when it arrived.

Camera events time their confirmations, timeouts and stationary objects by capture time, so a
recorded clip can be replayed faster than real time and frames that arrive late or out of order
are recognised. Sources, first found wins: the `X-Capture-Time` header, the `timestamp` query
parameter or multipart field, the JSON body's `timestamp` (the seed's own field). Each takes
Unix seconds (a number or a numeric string, milliseconds when it is that large) or ISO 8601.

A header, query or form value that is not a time is a 400: the client asked for it explicitly.
The seed body's `timestamp` is whatever old camera integrations always sent, so an unreadable
one is ignored rather than failing a request that used to work. A time in the future (a camera
clock running ahead) is replaced by the arrival time: a frame from "tomorrow" would otherwise
make every later frame look late.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from rest_framework.request import Request

from apps.core.errors import ApiError
from apps.detection.payloads import form_field

HEADER = "HTTP_X_CAPTURE_TIME"
FIELD = "timestamp"
# Clocks of cameras and servers disagree by a little; more than this ahead is not believed.
FUTURE_TOLERANCE_S = 5.0
_MILLISECONDS_FROM = 1e11  # a Unix time in seconds passes this in the year 5138


def parse(value: object) -> float | None:
    """Unix seconds from a number, a numeric string or ISO 8601; None when it is none."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.timestamp()
    else:
        return None
    if not math.isfinite(number) or number <= 0:
        return None
    return number / 1000 if number >= _MILLISECONDS_FROM else number


def explicit_time(request: Request) -> float | None:
    """The header, query or multipart capture time, if the request sends one (400 when it is
    not a time)."""
    value = request.META.get(HEADER) or request.query_params.get(FIELD)
    if value is None and (request.content_type or "").startswith("multipart/form-data"):
        value = form_field(request, FIELD)
    if value in (None, ""):
        return None
    when = parse(value)
    if when is None:
        raise ApiError(
            400,
            "invalid_timestamp",
            "timestamp: send the capture time as Unix seconds or ISO 8601 "
            "(e.g. 2026-01-31T14:02:00Z).",
        )
    return when


def captured_at(explicit: float | None, body: dict | None, arrived: float) -> float:
    """The frame's capture time (see the module doc)."""
    when = explicit if explicit is not None else parse(body.get(FIELD)) if body else None
    if when is None or when > arrived + FUTURE_TOLERANCE_S:
        return arrived
    return when
