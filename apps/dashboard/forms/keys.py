"""Dashboard forms: they validate input; the state changes are apps/tenants/services.py's."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms

from apps.core.grants import SCOPE_DETECT, SCOPE_EVENTS_READ, SCOPE_MANAGE
from apps.reports.usage import utc_today
from apps.tenants.application_types import ApplicationType
from apps.tenants.models import MAX_RETENTION_DAYS, TenantService

MAX_RANGE_DAYS = 366
SCOPE_CHOICES = [
    (SCOPE_DETECT, "detect: send images for detection"),
    (SCOPE_EVENTS_READ, "events:read: read archived request events and camera events"),
    (SCOPE_MANAGE, "manage: create and revoke keys, cameras and webhooks"),
]


def scopes_field(**kwargs) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one scope."},
        **kwargs,
    )


class KeyCreateForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput)  # apps/dashboard/once.py
    name = forms.CharField(
        max_length=100,
        help_text="Where the key is used, e.g. “front door camera”.",
    )
    expires_on = forms.DateField(
        required=False,
        label="Expires on (optional)",
        help_text="The key stops working at the start of this day (UTC). Empty: never.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    scopes = scopes_field(
        initial=[SCOPE_DETECT],
        required=False,
        help_text="A camera needs detect only; give a key no more than its job needs. "
        "None ticked: detect.",
    )

    def clean_scopes(self) -> list[str]:
        return self.cleaned_data["scopes"] or [SCOPE_DETECT]

    def clean_expires_on(self) -> date | None:
        expires_on = self.cleaned_data["expires_on"]
        if expires_on is not None and expires_on <= utc_today():
            raise forms.ValidationError("Pick a day after today.")
        return expires_on


class KeyScopesForm(forms.Form):
    """Narrow (or widen) what an existing key may do."""

    scopes = scopes_field()


class ServiceSettingsForm(forms.ModelForm):
    class Meta:
        model = TenantService
        fields = ["min_confidence", "save_request_events", "retention_days"]
        labels = {
            "min_confidence": "Confidence threshold",
            "save_request_events": "Save request events (image and response)",
            "retention_days": "Keep saved events for (days)",
        }
        widgets = {
            "min_confidence": forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1"}),
            "retention_days": forms.NumberInput(attrs={"min": "0", "max": str(MAX_RETENTION_DAYS)}),
        }


class DateRangeForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    @classmethod
    def from_query(cls, query, default_days: int = 30) -> DateRangeForm:
        """Bound to the query string, falling back to the last `default_days` days."""
        today = utc_today()
        data = {
            "start": query.get("start") or (today - timedelta(days=default_days - 1)).isoformat(),
            "end": query.get("end") or today.isoformat(),
        }
        return cls(data)

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("“To” must not be before “From”.")
            if (end - start).days + 1 > MAX_RANGE_DAYS:
                raise forms.ValidationError(f"Pick at most {MAX_RANGE_DAYS} days.")
        return cleaned


class EventFilterForm(forms.Form):
    service = forms.ChoiceField(
        required=False, choices=[("", "All services"), *ApplicationType.choices]
    )
    day = forms.DateField(
        required=False, label="Day (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
