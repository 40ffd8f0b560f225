"""The privacy page's forms: what stored images blur, and an erasure's camera and range."""

from __future__ import annotations

from datetime import UTC
from typing import cast

from django import forms

from apps.tenants.models import Tenant


class RedactionForm(forms.Form):
    faces = forms.BooleanField(required=False, label="Blur faces")
    plates = forms.BooleanField(required=False, label="Blur licence plates")

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {"faces": "faces" in tenant.redaction(), "plates": "plates" in tenant.redaction()},
        )
        super().__init__(*args, **kwargs)
        for name, required in (
            ("faces", tenant.require_redact_faces),
            ("plates", tenant.require_redact_plates),
        ):
            if required:  # shown on and locked: the operator requires it
                self.fields[name].disabled = True
                self.fields[name].initial = True
                self.fields[name].help_text = "Required by the operator."


class ErasureForm(forms.Form):
    camera = forms.ChoiceField(required=False, help_text="Empty: every camera of the tenant.")
    since = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="UTC."
    )
    confirm = forms.BooleanField(
        label="I understand that this cannot be undone",
        help_text="Every stored image, record, event and export of the range is deleted.",
    )

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cameras = tenant.cameras.order_by("name").values_list("public_id", "name")
        camera_field = cast(forms.ChoiceField, self.fields["camera"])
        camera_field.choices = [("", "All cameras"), *cameras]

    def clean(self) -> dict:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until:
            since, until = since.replace(tzinfo=UTC), until.replace(tzinfo=UTC)
            if since >= until:
                self.add_error("until", "Must be after the start.")
            data["since"], data["until"] = since, until
        return data
