"""One request event as it travels: built on the request path, carried in the archive outbox
(or the spool file), turned into storage objects by the archive consumer.

The message is JSON; the image bytes travel beside it, raw, as a second field of the outbox
entry (apps/archive/outbox.py). Only the spool, a plain file per event, carries them inline as
``image_b64``. Inline bytes are bounded by the portal's upload limit (``IPCAI_MAX_IMAGE_BYTES``,
10 MiB, checked before detection); camera JPEGs are 100-500 KB.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apps.archive import layout

MESSAGE_VERSION = 1


@dataclass(frozen=True)
class RequestEvent:
    event_id: str
    tenant_id: int
    tenant_slug: str
    application_type: str
    received_at: datetime
    response: dict[str, Any]
    request_id: str = ""
    portal_request_id: str = ""
    api_key_id: int | None = None
    model: str = ""
    timings: dict[str, Any] = field(default_factory=dict)
    # Every service the request ran (a DeepStack call runs all the tenant's enabled ones); this
    # record is `application_type`'s part of it.
    services: tuple[str, ...] = ()
    image: bytes | None = None
    image_type: layout.ImageType | None = None
    image_size: int = 0

    @property
    def key_stem(self) -> str:
        return layout.event_key_stem(
            self.tenant_slug, self.application_type, self.received_at, self.event_id
        )

    @property
    def image_key(self) -> str | None:
        if self.image_type is None:
            return None
        return layout.image_key(self.key_stem, self.image_type)

    @property
    def record_key(self) -> str:
        return layout.record_key(self.key_stem)

    @property
    def detection_count(self) -> int:
        """Detections in the response, whichever wire format it used."""
        for list_key in ("detections", "predictions", "bbox_coords"):
            value = self.response.get(list_key)
            if isinstance(value, list):
                return len(value)
        return 0

    def to_message(self, inline_image: bool = True) -> dict[str, Any]:
        """The JSON-safe message; the image inline (base64, the spool's form) unless it travels
        beside the message (`inline_image=False`, the outbox's form)."""
        inline = self.image if inline_image else None
        return {
            "v": MESSAGE_VERSION,
            "event_id": self.event_id,
            "tenant_id": self.tenant_id,
            "tenant_slug": self.tenant_slug,
            "application_type": self.application_type,
            "received_at": self.received_at.astimezone(UTC).isoformat(),
            "request_id": self.request_id,
            "portal_request_id": self.portal_request_id,
            "api_key_id": self.api_key_id,
            "model": self.model,
            "timings": self.timings,
            "services": list(self.services),
            "response": self.response,
            "image_b64": base64.b64encode(inline).decode("ascii") if inline is not None else None,
            "image_extension": self.image_type.extension if self.image_type else None,
            "image_content_type": self.image_type.content_type if self.image_type else None,
            "image_size": self.image_size,
        }

    @classmethod
    def from_message(cls, message: dict[str, Any], image: bytes | None = None) -> RequestEvent:
        """The event of a message, its image inline or given beside it (`image`); None when an
        image was announced but is missing: the event keeps its image type and size."""
        if message.get("v") != MESSAGE_VERSION:
            raise ValueError(f"unknown archive message version {message.get('v')!r}")
        if message.get("image_b64"):
            image = base64.b64decode(message["image_b64"])
        image_type = (
            layout.ImageType(message["image_extension"], message["image_content_type"])
            if message.get("image_extension")
            else None
        )
        return cls(
            event_id=message["event_id"],
            tenant_id=message["tenant_id"],
            tenant_slug=message["tenant_slug"],
            application_type=message["application_type"],
            received_at=datetime.fromisoformat(message["received_at"]),
            response=message["response"],
            request_id=message.get("request_id") or "",
            portal_request_id=message.get("portal_request_id") or "",
            api_key_id=message.get("api_key_id"),
            model=message.get("model") or "",
            timings=message.get("timings") or {},
            services=tuple(message.get("services") or ()),
            image=image,
            image_type=image_type,
            image_size=message.get("image_size") or (len(image) if image else 0),
        )

    def record(self) -> dict[str, Any]:
        """The JSON document stored beside the image: everything needed to reuse the sample."""
        return {
            "event_id": self.event_id,
            "tenant": self.tenant_slug,
            "application_type": self.application_type,
            "request_id": self.request_id,
            "portal_request_id": self.portal_request_id,
            "api_key_id": self.api_key_id,
            "received_at": self.received_at.astimezone(UTC).isoformat(),
            "model": self.model,
            "services": list(self.services) or [self.application_type],
            "timings": self.timings,
            "image": (
                {
                    "key": self.image_key,
                    "content_type": self.image_type.content_type,
                    "size": self.image_size,
                }
                if self.image_key and self.image_type
                else None
            ),
            "response": self.response,
        }

    def record_bytes(self) -> bytes:
        # Sorted keys make the bytes identical on every retry of the same event.
        return json.dumps(self.record(), sort_keys=True, separators=(",", ":")).encode()
