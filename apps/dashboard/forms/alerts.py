"""Forms of the Alerts pages: the timeline's filter and a camera's event settings."""

from __future__ import annotations

from typing import cast

from django import forms

from apps.alerts.models import MAX_CONFIRM_WINDOW
from apps.cameras.models import Camera


class AlertFilterForm(forms.Form):
    camera = forms.ChoiceField(required=False)
    label = forms.CharField(required=False, max_length=32, label="Class")
    zone = forms.CharField(required=False, max_length=64)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    plate = forms.CharField(
        required=False, max_length=16, help_text="one character off matches too"
    )

    def __init__(self, *args, cameras: list[Camera], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["camera"]).choices = [("", "All cameras")] + [
            (c.public_id, c.name) for c in cameras
        ]


class AlertingForm(forms.Form):
    """A camera's event settings (apps/alerts/alerting.update_alerting)."""

    enabled = forms.BooleanField(required=False, label="Make events from this camera's frames")
    labels = forms.CharField(
        required=False, label="Alerting classes", help_text="e.g. person car; empty: every class."
    )
    timeout_s = forms.FloatField(
        min_value=0.5, max_value=3600, label="Ends after (s) unseen", help_text="default 3"
    )
    cooldown_s = forms.FloatField(
        min_value=0, max_value=86400, label="Cooldown per class (s)", help_text="0: off"
    )
    stationary_after_s = forms.FloatField(
        min_value=1, max_value=86400, label="Stationary after (s)", help_text="default 30"
    )
    confirm_hits = forms.IntegerField(
        min_value=1,
        max_value=MAX_CONFIRM_WINDOW,
        label="Confirmed when seen in",
        help_text="sightings (default 3)",
    )
    confirm_window = forms.IntegerField(
        min_value=1,
        max_value=MAX_CONFIRM_WINDOW,
        label="of the last",
        help_text="frames (default 5); 1 of 1 opens an event at the first sighting",
    )


def words(text: str) -> list[str]:
    return [w for w in text.replace(",", " ").split() if w]
