"""Every change to a tenant's webhook endpoints, in one place (the API and the dashboard both
call these): create (the secret is returned once), update, enable, delete, send a test event."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.alerts.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint
from apps.alerts.webhooks import outbound
from apps.alerts.webhooks.delivery import enqueue
from apps.alerts.webhooks.signing import new_secret

MAX_ENDPOINTS_PER_TENANT = 20
MAX_FILTER_ITEMS = 50


class EndpointError(ValueError):
    """Bad endpoint settings; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class EndpointFilters:
    cameras: list[str]
    labels: list[str]
    zones: list[str]
    event_types: list[str]


def check_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > 2000:
        raise EndpointError("url", "The URL is longer than 2000 characters.")
    try:
        outbound.validate_destination(
            url, settings.IPCAI_WEBHOOK_ALLOW_PRIVATE, settings.IPCAI_WEBHOOK_PORTS
        )
    except outbound.PrivateAddress as exc:
        raise EndpointError(
            "url",
            f"This URL cannot receive webhooks: {exc}. On an install of your own, the operator "
            "allows loopback and private addresses with IPCAI_WEBHOOK_ALLOW_PRIVATE=true (then "
            "restarts the portal and Celery; `make run` allows them already).",
        ) from None
    except outbound.UnsafeUrl as exc:
        raise EndpointError("url", f"This URL cannot receive webhooks: {exc}.") from None
    return url


def check_filters(
    cameras=None, labels=None, zones=None, event_types=None, *, tenant_id: int
) -> EndpointFilters:
    from apps.cameras.models import Camera

    def strings(name: str, value) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise EndpointError(name, f"{name} must be a list of strings.")
        if len(value) > MAX_FILTER_ITEMS:
            raise EndpointError(name, f"{name} takes at most {MAX_FILTER_ITEMS} items.")
        return sorted(set(value))

    filters = EndpointFilters(
        strings("cameras", cameras),
        strings("labels", labels),
        strings("zones", zones),
        strings("event_types", event_types),
    )
    unknown_types = set(filters.event_types) - set(EVENT_TYPES)
    if unknown_types:
        raise EndpointError(
            "event_types",
            f"Unknown event types {sorted(unknown_types)}; valid: {', '.join(EVENT_TYPES)}.",
        )
    if filters.cameras:
        known = set(
            Camera.objects.filter(tenant_id=tenant_id, public_id__in=filters.cameras).values_list(
                "public_id", flat=True
            )
        )
        missing = sorted(set(filters.cameras) - known)
        if missing:
            raise EndpointError("cameras", f"No such camera: {', '.join(missing)}.")
    return filters


def create_endpoint(
    tenant, url: str, *, description: str = "", filters: EndpointFilters | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (`whsec_...`), which is shown to the user this once."""
    if WebhookEndpoint.objects.filter(tenant=tenant).count() >= MAX_ENDPOINTS_PER_TENANT:
        raise EndpointError(
            "url", f"A tenant has at most {MAX_ENDPOINTS_PER_TENANT} webhook endpoints."
        )
    filters = filters or EndpointFilters([], [], [], [])
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant,
        url=check_url(url),
        description=description[:200],
        secret=secret,
        cameras=filters.cameras,
        labels=filters.labels,
        zones=filters.zones,
        event_types=filters.event_types,
    )
    return endpoint, secret


def update_endpoint(
    endpoint: WebhookEndpoint,
    *,
    url: str | None = None,
    description: str | None = None,
    filters: EndpointFilters | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    if url is not None:
        endpoint.url = check_url(url)
    if description is not None:
        endpoint.description = description[:200]
    if filters is not None:
        endpoint.cameras = filters.cameras
        endpoint.labels = filters.labels
        endpoint.zones = filters.zones
        endpoint.event_types = filters.event_types
    if enabled is not None and enabled != endpoint.enabled:
        endpoint.enabled = enabled
        if enabled:  # turned back on: the note about why it was off no longer applies
            endpoint.disabled_reason = ""
            endpoint.disabled_at = None
    endpoint.save()
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def send_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `test` delivery (signed like the real ones, delivered by the same worker)."""
    payload = {
        "type": "test",
        "timestamp": timezone.now().isoformat().replace("+00:00", "Z"),
        "data": {"endpoint": endpoint.public_id, "message": "A test event from IPC AI."},
    }
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event_type="test", payload=payload
        )
        transaction.on_commit(lambda: enqueue([delivery.id]))
    return delivery
