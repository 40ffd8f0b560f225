"""Tenants, memberships, API keys and per-tenant services.

State changes go through apps/tenants/services.py so the management commands, the admin and the
dashboard all do the same thing (hashing, cache invalidation, audit timestamps).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from apps.tenants.application_types import ApplicationType

# Ten years: past that an archive is a liability, not a feature.
MAX_RETENTION_DAYS = 3650


class Tenant(models.Model):
    """A customer account: owns API keys, services and usage; everything else hangs off it."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    active = models.BooleanField(
        default=True, help_text="Inactive tenants get 403 on every API request."
    )
    default_application_type = models.CharField(
        max_length=32,
        choices=ApplicationType.choices,
        default=ApplicationType.PERSONS,
        help_text="Used by POST /inference when the body names no application_type.",
    )
    monthly_request_quota = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests per calendar month (UTC); empty = unlimited."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="unique_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"


class ApiKeyQuerySet(models.QuerySet):
    def usable(self) -> ApiKeyQuerySet:
        """Keys that authenticate right now: not revoked and not expired."""
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """An API key. Only a keyed hash of the secret is stored; the full key is shown once.

    Keys look like `ipcai_<public_id>_<secret>`: the prefix makes leaked keys easy to spot
    (secret scanners), the public id finds the row without a hash index scan and names the key
    in the dashboard and logs.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    public_id = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"

    @property
    def prefix(self) -> str:
        """The non-secret start of the key, enough to recognise it."""
        return f"ipcai_{self.public_id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class TenantService(models.Model):
    """One detection service (application type) of a tenant, with its settings."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="services")
    application_type = models.CharField(max_length=32, choices=ApplicationType.choices)
    enabled = models.BooleanField(default=True)
    # 0.5: the default model's measured threshold (docs/BENCHMARKS.md): below it the accurate
    # models trade much precision for little recall, and DEIMv2 repeats boxes.
    min_confidence = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Default score threshold when a request does not send min_confidence.",
    )
    save_request_events = models.BooleanField(
        default=False, help_text="Archive each request's image and response."
    )
    retention_days = models.PositiveIntegerField(
        default=30,
        validators=[MaxValueValidator(MAX_RETENTION_DAYS)],
        help_text=f"How long archived request events are kept (days, 0 keeps them, at most "
        f"{MAX_RETENTION_DAYS}).",
    )

    class Meta:
        ordering = ["tenant", "application_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "application_type"], name="unique_tenant_service"
            ),
        ]

    def __str__(self) -> str:
        state = "enabled" if self.enabled else "disabled"
        return f"{self.tenant}: {self.application_type} ({state})"
