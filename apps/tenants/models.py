"""Tenants, memberships, API keys and per-tenant services.

State changes go through apps/tenants/services.py so the management commands, the admin and the
dashboard all do the same thing (hashing, cache invalidation, audit timestamps).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from apps.core.grants import ALL_SCOPES, SCOPE_DETECT, SCOPE_ORDER
from apps.tenants.application_types import APPLICATION_LABELS, ApplicationType
from apps.tenants.model_tiers import model_for, tier_names

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
    # Privacy (docs/PRIVACY.md): what is blurred in every image we store. Owners may turn a
    # kind on; the operator may require it, and a required kind cannot be turned off by them.
    redact_faces = models.BooleanField(default=False, help_text="Blur faces in stored images.")
    redact_plates = models.BooleanField(
        default=False, help_text="Blur licence plates in stored images."
    )
    require_redact_faces = models.BooleanField(
        default=False, help_text="Operator: faces are blurred whatever the owner chooses."
    )
    require_redact_plates = models.BooleanField(
        default=False, help_text="Operator: plates are blurred whatever the owner chooses."
    )

    class Meta:
        ordering = ["slug"]

    def redaction(self) -> frozenset[str]:
        """The kinds blurred in what is stored: chosen or required."""
        kinds = set()
        if self.redact_faces or self.require_redact_faces:
            kinds.add("faces")
        if self.redact_plates or self.require_redact_plates:
            kinds.add("plates")
        return frozenset(kinds)

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


def default_key_scopes() -> list[str]:
    """New keys, and keys bound to a camera, may only detect: what a camera needs, and all a
    leaked camera key gives away. Owners add events:read or manage deliberately."""
    return [SCOPE_DETECT]


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
    # Subset of apps.core.grants.ALL_SCOPES: detect, events:read (archived events), manage
    # (keys, cameras, webhooks). Keys from before scopes existed were given all three.
    scopes = models.JSONField(default=default_key_scopes)

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

    @property
    def ordered_scopes(self) -> list[str]:
        """The key's scopes in the documented order (detect, events:read, manage)."""
        return [scope for scope in SCOPE_ORDER if scope in self.scopes]

    @property
    def has_all_scopes(self) -> bool:
        return set(self.scopes) >= ALL_SCOPES


class DetectionModel(models.Model):
    """A model the inference workers serve, by name: the tier models and tenant models.

    The name is the worker's (its IPCAI_MODELS list and manifest entry); `manage.py
    model_manifest` writes the manifest entries from these rows. A tenant model belongs to one
    tenant: only that tenant's services can be assigned to it.
    """

    class Family(models.TextChoices):
        YOLOX = "yolox", "YOLOX"
        PICODET = "picodet", "PicoDet"
        DEIMV2 = "deimv2", "DEIMv2"

    name = models.SlugField(
        max_length=64, unique=True, help_text="The worker's model name (IPCAI_MODELS)."
    )
    file = models.CharField(
        max_length=500,
        help_text="ONNX file in the model store: a name in IPCAI_MODEL_STORE, or s3://bucket/key.",
    )
    sha256 = models.CharField(
        max_length=64,
        blank=True,
        validators=[RegexValidator(r"^[0-9a-f]{64}$", "64 lowercase hex digits.")],
        help_text="Checked against the file; computed from it when left empty.",
    )
    family = models.CharField(max_length=16, choices=Family.choices)
    input_width = models.PositiveIntegerField(default=416)
    input_height = models.PositiveIntegerField(default=416)
    class_names = models.JSONField(
        default=list, help_text='The model\'s classes in output order, e.g. ["cat", "dog"].'
    )
    licence = models.CharField(
        max_length=200, blank=True, help_text="Licence note: Apache-2.0, the tenant's own data..."
    )
    tenant = models.ForeignKey(
        Tenant,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="detection_models",
        help_text="Owner of a tenant model; empty for a model any tenant may use.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name if self.tenant_id is None else f"{self.name} ({self.tenant})"

    def clean(self) -> None:
        names = self.class_names
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ValidationError({"class_names": "A non-empty list of class names."})

    def missing_classes(self, application_type: str) -> list[str]:
        """The service's classes this model cannot detect."""
        return sorted(APPLICATION_LABELS[application_type] - set(self.class_names))

    def manifest_entry(self) -> dict:
        """The worker's manifest.json entry (gpu_worker/manifest.py)."""
        return {
            "family": self.family,
            "file": self.file.rsplit("/", 1)[-1],
            "sha256": self.sha256,
            "input_size": [self.input_width, self.input_height],
            "classes": self.class_names,
            "license": self.licence,
            "description": "registered in the portal's model registry",
        }


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
        help_text=f"Days archived request events are kept (0: always; "
        f"{MAX_RETENTION_DAYS} at most).",
    )
    # Which model answers (apps/tenants/model_tiers.py): `model` if set, else the tier's.
    tier = models.CharField(
        max_length=32,
        blank=True,
        help_text="Accuracy tier (IPCAI_MODEL_TIERS: fast, accurate); empty: the default.",
    )
    model = models.ForeignKey(
        DetectionModel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="services",
        help_text="A specific (tenant) model; wins over the tier.",
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

    def clean(self) -> None:
        if self.tier and self.tier not in tier_names():
            raise ValidationError({"tier": f"Unknown tier; this deployment has {tier_names()}."})
        model = self.model
        if model is None:
            return
        if model.tenant_id not in (None, self.tenant_id):
            raise ValidationError({"model": f"{model.name} is another tenant's model."})
        missing = model.missing_classes(self.application_type)
        if missing:
            raise ValidationError(
                {
                    "model": f"{model.name} cannot serve {self.application_type}: it has "
                    f"no class {', '.join(missing)} (its classes: "
                    f"{', '.join(model.class_names)})."
                }
            )

    @property
    def model_name(self) -> str:
        """The worker model that answers this service ("" = the worker's default)."""
        return model_for(self.tier, self.model.name if self.model is not None else "")
