"""The detection services a tenant can subscribe to, and the COCO labels each one returns.

Mirrors gpu_worker/app_types.py on purpose: the worker is standalone (no imports across the
HTTP contract), and the portal needs the labels to limit DeepStack answers to what a tenant
subscribed to.
"""

from __future__ import annotations

from django.db import models


class ApplicationType(models.TextChoices):
    PERSONS = "persons-detection", "Persons detection"
    PETS = "pets-detection", "Pets detection"
    VEHICLES = "vehicles-detection", "Vehicles detection"
    PLATES = "license-plates", "License plates"


APPLICATION_LABELS: dict[str, frozenset[str]] = {
    ApplicationType.PERSONS: frozenset({"person"}),
    ApplicationType.PETS: frozenset({"cat", "dog"}),
    ApplicationType.VEHICLES: frozenset({"bicycle", "car", "motorcycle", "bus", "train", "truck"}),
    # The vehicles, each with its plate when the worker could read one (docs/PLATES.md).
    ApplicationType.PLATES: frozenset({"bicycle", "car", "motorcycle", "bus", "train", "truck"}),
}


def is_application_type(value: object) -> bool:
    return isinstance(value, str) and value in ApplicationType.values


def valid_types_text() -> str:
    return ", ".join(ApplicationType.values)
