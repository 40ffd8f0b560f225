"""The tenant's privacy setting: which kinds (faces, plates) are blurred in stored images.

One write function per change: the owner's choice (dashboard, API) and the operator's
requirement (admin). A kind the operator requires stays on whatever the owner sends. Saving the
tenant drops its cached key grants (apps/tenants/signals.py), so the next request sees it.
"""

from __future__ import annotations

from apps.tenants.models import Tenant

KINDS: tuple[str, ...] = ("faces", "plates")


class RedactionRequired(ValueError):
    """The owner tried to turn off a kind the operator requires."""


def set_owner_redaction(tenant: Tenant, *, faces: bool, plates: bool) -> frozenset[str]:
    """The owner's choice; refuses to turn off what the operator requires."""
    refused = [
        kind
        for kind, wanted, required in (
            ("faces", faces, tenant.require_redact_faces),
            ("plates", plates, tenant.require_redact_plates),
        )
        if required and not wanted
    ]
    if refused:
        raise RedactionRequired(
            f"redaction of {', '.join(refused)} is required by the operator and stays on"
        )
    tenant.redact_faces, tenant.redact_plates = faces, plates
    tenant.save(update_fields=["redact_faces", "redact_plates"])
    return tenant.redaction()


def set_required_redaction(tenant: Tenant, *, faces: bool, plates: bool) -> frozenset[str]:
    """The operator's requirement: a required kind is on for the tenant from now on."""
    tenant.require_redact_faces, tenant.require_redact_plates = faces, plates
    tenant.save(update_fields=["require_redact_faces", "require_redact_plates"])
    return tenant.redaction()


def redaction_of(tenant_id: int) -> frozenset[str]:
    """What a tenant blurs, read from the database (Celery tasks: exports, video jobs)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    return tenant.redaction() if tenant is not None else frozenset()
