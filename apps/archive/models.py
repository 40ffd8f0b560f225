"""Metadata of archived request events: what the events API lists and filters.

The archive itself (image + JSON record) lives in storage; a row here is written by the archive
task only after both objects are stored, so every listed event can be downloaded. The row keeps
the storage keys rather than recomputing them, so a renamed tenant slug or a changed layout never
orphans old events.
"""

from __future__ import annotations

from django.db import models

from apps.tenants.application_types import ApplicationType


class ArchivedEvent(models.Model):
    # The event id minted by the portal when the request arrived (never the camera's request_id,
    # which two cameras may share): retries and duplicates of the archive task reuse it.
    id = models.UUIDField(primary_key=True, editable=False)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="archived_events"
    )
    application_type = models.CharField(max_length=32, choices=ApplicationType.choices)
    # Kept as an id, not a foreign key: deleting a key must not delete or rewrite its history.
    api_key_id = models.BigIntegerField(null=True, blank=True)
    # The camera's own request_id (seed body), and the portal's id of the request, which is
    # also the usage event's request_id.
    request_id = models.CharField(max_length=128, blank=True)
    portal_request_id = models.CharField(max_length=32, blank=True)
    received_at = models.DateTimeField()
    stored_at = models.DateTimeField(auto_now_add=True)
    model = models.CharField(max_length=64, blank=True)
    detection_count = models.PositiveIntegerField(default=0)
    record_key = models.CharField(max_length=512)
    image_key = models.CharField(max_length=512, blank=True)
    image_content_type = models.CharField(max_length=32, blank=True)
    image_size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["tenant", "application_type", "-received_at"], name="event_tenant_type"
            ),
            models.Index(fields=["tenant", "-received_at"], name="event_tenant_time"),
            # The retention sweep scans by age across tenants.
            models.Index(fields=["received_at"], name="event_received"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.application_type}/{self.id}"

    @property
    def has_image(self) -> bool:
        return bool(self.image_key)
