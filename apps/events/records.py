"""One request event as it travels: built on the request path, carried in the Celery message (or
the spool file), turned into storage objects by the archive task.

The image bytes ride inside the message, base64-encoded. Why not stage them somewhere and send a
reference? Staging needs either storage shared by portal and workers (a second moving part to
clean up) or a synchronous S3 PUT on the request path, which is the latency archiving must not
add. Inline bytes are bounded: the portal rejects images over ``IPCAI_MAX_IMAGE_BYTES`` (10 MiB)
before detection, and camera JPEGs are 100-500 KB, i.e. 135-670 KB of base64 per message. Redis
only holds the backlog (workers drain it in milliseconds per event, and with a prefetch
multiplier of 1 each worker process holds one message). If Redis does run out of memory, the
publish fails like any other broker error and the event goes to the durable spool instead.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apps.events import layout

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
    image: bytes | None = None
    image_type: layout.ImageType | None = None

    @property
    def key_stem(self) -> str:
        return layout.event_key_stem(
            self.tenant_slug, self.application_type, self.received_at, self.event_id
        )

    @property
    def image_key(self) -> str | None:
        if self.image is None or self.image_type is None:
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

    def to_message(self) -> dict[str, Any]:
        """The JSON-safe Celery task argument (also the spool file's content)."""
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
            "response": self.response,
            "image_b64": base64.b64encode(self.image).decode("ascii") if self.image else None,
            "image_extension": self.image_type.extension if self.image_type else None,
            "image_content_type": self.image_type.content_type if self.image_type else None,
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> RequestEvent:
        if message.get("v") != MESSAGE_VERSION:
            raise ValueError(f"unknown archive message version {message.get('v')!r}")
        image = base64.b64decode(message["image_b64"]) if message.get("image_b64") else None
        image_type = (
            layout.ImageType(message["image_extension"], message["image_content_type"])
            if image is not None and message.get("image_extension")
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
            image=image,
            image_type=image_type,
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
            "timings": self.timings,
            "image": (
                {
                    "key": self.image_key,
                    "content_type": self.image_type.content_type,
                    "size": len(self.image),
                }
                if self.image_key and self.image_type and self.image is not None
                else None
            ),
            "response": self.response,
        }

    def record_bytes(self) -> bytes:
        # Sorted keys make the bytes identical on every retry of the same event.
        return json.dumps(self.record(), sort_keys=True, separators=(",", ":")).encode()
