"""The Requests page's filter (service, day)."""

from __future__ import annotations

from django import forms

from apps.tenants.application_types import ApplicationType


class RequestFilterForm(forms.Form):
    service = forms.ChoiceField(
        required=False, choices=[("", "All services"), *ApplicationType.choices]
    )
    day = forms.DateField(
        required=False, label="Day (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
