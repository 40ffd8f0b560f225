"""Forms of the API keys page: they validate input; apps/tenants/services.py changes state."""

from __future__ import annotations

from datetime import date

from django import forms

from apps.core.grants import SCOPE_DETECT, SCOPE_EVENTS_READ, SCOPE_MANAGE
from apps.reports.usage import utc_today

SCOPE_CHOICES = [
    (SCOPE_DETECT, f"{SCOPE_DETECT}: send images for detection"),
    (SCOPE_EVENTS_READ, f"{SCOPE_EVENTS_READ}: read saved requests (Requests) and camera events"),
    (SCOPE_MANAGE, f"{SCOPE_MANAGE}: create and revoke keys, cameras and webhooks"),
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
