"""Forms of the camera pages: they only collect values; apps/cameras/validation.py checks them
(the same rules as the API), and its errors are shown on the field they name."""

from __future__ import annotations

from typing import cast

from django import forms

from apps.cameras.models import Anchor, Camera, Slicing
from apps.tenants.application_types import APPLICATION_LABELS, ApplicationType


def service_choices(enabled: list[str]) -> list[tuple[str, str]]:
    return [(value, label) for value, label in ApplicationType.choices if value in enabled]


def labels_of(services: list[str]) -> list[str]:
    return sorted(frozenset().union(*(APPLICATION_LABELS[s] for s in services)))


class ConnectForm(forms.Form):
    """Step one of "Connect a camera": what to call it and what it should look for."""

    name = forms.CharField(max_length=100, help_text="Where it looks, e.g. driveway.")
    services = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, enabled: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["services"]).choices = service_choices(enabled)
        self.fields["services"].initial = enabled


class CameraSettingsForm(forms.Form):
    """Name, services, per-class thresholds and the size filter (zones have their editor)."""

    name = forms.CharField(max_length=100)
    services = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    anchor = forms.ChoiceField(choices=Anchor.choices, label="Point tested against zones")
    slicing = forms.ChoiceField(
        choices=Slicing.choices,
        required=False,  # a post without it keeps the default, as before the setting existed
        label="Look closer (sliced inference)",
        help_text="Finds distant people and cars at about 5x the inference cost; with include "
        "zones, only their area is sliced.",
    )
    min_box_percent = forms.FloatField(
        required=False,
        min_value=0,
        max_value=100,
        label="Minimum box size (% of the frame)",
        help_text="e.g. 0.1 drops a distant bird; empty: no limit.",
    )
    min_box_pixels = forms.IntegerField(
        required=False,
        min_value=0,
        label="Minimum box size (pixels, width x height)",
    )

    def __init__(self, *args, enabled: list[str], camera: Camera | None = None, **kwargs):
        if camera is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": camera.name,
                "services": camera.services,
                "anchor": camera.anchor,
                "slicing": camera.slicing,
                "min_box_percent": camera.min_box_area * 100 if camera.min_box_area else None,
                "min_box_pixels": camera.min_box_pixels,
                **{f"threshold_{k}": v for k, v in camera.class_thresholds.items()},
            }
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["services"]).choices = service_choices(enabled)
        for label in labels_of(threshold_services(enabled, camera, bound=self.is_bound)):
            self.fields[f"threshold_{label}"] = forms.FloatField(
                required=False,
                min_value=0,
                max_value=1,
                label=f"{label} threshold",
                widget=forms.NumberInput(attrs={"step": "0.05", "placeholder": "service's"}),
            )

    def threshold_fields(self) -> list:
        return [self[name] for name in self.fields if name.startswith("threshold_")]

    def camera_settings(self) -> dict:
        """The cleaned values in the shape apps/cameras/services.py takes."""
        data = self.cleaned_data
        percent = data["min_box_percent"]
        return {
            "name": data["name"],
            "services": data["services"],
            "anchor": data["anchor"],
            "slicing": data["slicing"] or Slicing.TIER,
            "min_box_area": percent / 100 if percent else None,
            "min_box_pixels": data["min_box_pixels"],
            "class_thresholds": {
                name.removeprefix("threshold_"): value
                for name, value in data.items()
                if name.startswith("threshold_") and value is not None
            },
        }


FIELD_OF_SETTING = {"min_box_area": "min_box_percent"}


def add_camera_error(form: forms.Form, field: str, message: str) -> None:
    """Show a validation.CameraInvalid on the form field it names, else on the form."""
    name = field.split(".")[0].split("[")[0]
    name = FIELD_OF_SETTING.get(name, name)
    if name == "class_thresholds" and "." in field:
        name = f"threshold_{field.split('.', 1)[1]}"
    form.add_error(name if name in form.fields else None, message)


def threshold_services(enabled: list[str], camera: Camera | None, *, bound: bool) -> list[str]:
    """The services whose classes get a threshold field: the camera's own (a persons-only
    camera shows no bus or dog), all enabled ones for a camera that runs every service or
    for a posted form (a service ticked in the same post keeps the thresholds sent for it)."""
    if bound or camera is None or not camera.services:
        return enabled
    return [service for service in enabled if service in camera.services] or enabled


class StillForm(forms.Form):
    image = forms.FileField(label="Picture (JPEG or PNG)")


class BindKeyForm(forms.Form):
    key = forms.ChoiceField(label="API key")

    def __init__(self, *args, keys: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["key"]).choices = keys
