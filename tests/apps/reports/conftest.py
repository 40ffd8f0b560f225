"""Usage made the way requests make it: queued by record_usage, stored by the real drain."""

from __future__ import annotations

import uuid
from datetime import datetime

from apps.tenants.models import Tenant
from apps.usage.metering import Usage, drain_usage, record_usage


def metered(
    tenant: Tenant,
    application_type: str,
    when: datetime,
    *,
    latency_ms: float = 50.0,
    status_code: int = 200,
    objects: int = 1,
    endpoint: str = "native",
) -> None:
    """Queue one request's usage event (call drain_usage() to store the batch)."""
    services = application_type.split(",")
    objects = objects if status_code < 400 else 0  # a failed request finds nothing
    record_usage(
        Usage(
            request_id=uuid.uuid4().hex,
            timestamp=when.timestamp(),
            endpoint=endpoint,
            status_code=status_code,
            latency_ms=latency_ms,
            tenant_id=tenant.pk,
            application_type=application_type,
            error_code="" if status_code < 400 else "bad_image",
            objects=objects * len(services),
            objects_per_service=tuple(objects for _ in services),
        )
    )


__all__ = ["drain_usage", "metered"]
