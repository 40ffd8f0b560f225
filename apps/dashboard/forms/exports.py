"""The dataset export form: it builds the ExportSpec that apps/reports/datasets runs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms

from apps.reports.datasets.formats import FORMAT_LABELS, FORMATS
from apps.reports.datasets.selection import ExportSpec
from apps.tenants.application_types import ApplicationType


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[(f, FORMAT_LABELS[f]) for f in FORMATS])
    service = forms.ChoiceField(
        choices=[("", "All services"), *ApplicationType.choices], required=False
    )
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Inclusive."
    )
    classes = forms.CharField(
        required=False, help_text="Comma-separated, e.g. dog,cat. Empty: the services' classes."
    )
    score_min = forms.FloatField(required=False, min_value=0, max_value=1, label="Score from")
    score_max = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        label="Score to",
        help_text="Only frames with a detection in this band (e.g. 0.3 to 0.6: the unsure ones).",
    )
    sample_size = forms.IntegerField(required=False, min_value=1, help_text="Empty: every frame.")

    def spec(self) -> ExportSpec:
        """The export to run; InvalidExport (shown on the form) when the filters clash."""
        data = self.cleaned_data
        day = lambda d: datetime.combine(d, time.min, tzinfo=UTC) if d else None  # noqa: E731
        return ExportSpec(
            format=data["format"],
            service=data["service"] or None,
            since=day(data["since"]),
            until=day(data["until"] + timedelta(days=1)) if data["until"] else None,
            classes=tuple(c.strip() for c in data["classes"].split(",") if c.strip()),
            score_min=data["score_min"],
            score_max=data["score_max"],
            sample_size=data["sample_size"],
        )
