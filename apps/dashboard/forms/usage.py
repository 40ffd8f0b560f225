"""The usage page's date range (at most MAX_RANGE_DAYS days)."""

from __future__ import annotations

from datetime import timedelta

from django import forms

from apps.reports.usage import utc_today

MAX_RANGE_DAYS = 366


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
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("“To” must not be before “From”.")
            if (end - start).days + 1 > MAX_RANGE_DAYS:
                raise forms.ValidationError(f"Pick at most {MAX_RANGE_DAYS} days.")
        return cleaned
