"""The webhook endpoint form (create and edit): apps/alerts/webhooks/endpoints.py checks it."""

from __future__ import annotations

from typing import cast

from django import forms

from apps.alerts.models import EVENT_TYPES
from apps.cameras.models import Camera


class EndpointForm(forms.Form):
    url = forms.CharField(max_length=2000, label="URL")
    description = forms.CharField(max_length=200, required=False)
    cameras = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: all cameras."
    )
    labels = forms.CharField(
        required=False, label="Classes", help_text="e.g. person car; empty: every class."
    )
    zones = forms.CharField(required=False, help_text="Zone names; empty: anywhere.")
    event_types = forms.MultipleChoiceField(
        required=False,
        choices=[(t, t) for t in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: both.",
    )
    enabled = forms.BooleanField(required=False, initial=True)
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, cameras: list[Camera], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["cameras"]).choices = [
            (c.public_id, c.name) for c in cameras
        ]
