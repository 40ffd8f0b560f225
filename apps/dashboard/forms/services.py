"""The form of one service's settings on the services page."""

from __future__ import annotations

from django import forms

from apps.tenants.models import MAX_RETENTION_DAYS, TenantService


class ServiceSettingsForm(forms.ModelForm):
    class Meta:
        model = TenantService
        fields = ["min_confidence", "save_request_events", "retention_days"]
        labels = {
            "min_confidence": "Confidence threshold",
            "save_request_events": "Save requests (image and response)",
            "retention_days": "Keep saved requests for (days)",
        }
        help_texts = {
            "save_request_events": "Archive each request's image and response; see Requests.",
            "retention_days": f"Days saved requests are kept (0: always; "
            f"{MAX_RETENTION_DAYS} at most).",
        }
        widgets = {
            "min_confidence": forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1"}),
            "retention_days": forms.NumberInput(attrs={"min": "0", "max": str(MAX_RETENTION_DAYS)}),
        }
