"""The archive's side of redaction: a redacting tenant's event goes through the redaction
queue (apps/core/redaction.py) before the outbox or the spool sees its image.

The request path only hands the event over (no worker call, no decode): with redaction off it
costs nothing, with it on one queue put. The event is published by the redaction thread with
the blurred image, or without any image when it could not be blurred (queue full, worker
down): its record and answer are kept, an unredacted image never is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection

from apps.archive import layout
from apps.archive.records import RequestEvent
from apps.core.redaction import redaction_queue


def hand_over(
    event: RequestEvent, kinds: Collection[str], publish: Callable[[RequestEvent], object]
) -> None:
    """Redact the event's image off the request path, then `publish` the event."""
    if event.image is None:
        publish(event)
        return

    def then(image: bytes | None) -> None:
        image_type = layout.sniff_image_type(image) if image else None
        publish(
            dataclasses.replace(
                event,
                image=image if image_type else None,
                image_type=image_type,
                image_size=len(image) if image and image_type else 0,
            )
        )

    redaction_queue().submit(event.image, kinds, then)
