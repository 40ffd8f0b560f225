"""Which model serves a tenant's service: its own tenant model, else its tier's, else the
deployment default.

Tier names and the model each maps to are deployment settings (IPCAI_MODEL_TIERS,
`fast=yolox_nano,accurate=deimv2_femto`): a deployment re-points a tier to a new model without
touching a tenant. An empty answer sends no model name, so the worker's default (the first of
its IPCAI_MODELS) answers: exactly what a service without a tier got before tiers existed.

Some tiers also slice (IPCAI_SLICED_TIERS, `accurate` by default): the worker runs the model
on the whole frame plus overlapping slices (gpu_worker/slicing.py), finding small and distant
objects without a larger model.
"""

from __future__ import annotations

from django.conf import settings


def tier_names() -> list[str]:
    return list(settings.IPCAI_MODEL_TIERS)


def model_for(tier: str, tenant_model: str) -> str:
    """The worker model name for a service with this tier and tenant model ("" = default)."""
    if tenant_model:
        return tenant_model
    return settings.IPCAI_MODEL_TIERS.get(tier or settings.IPCAI_DEFAULT_TIER, "")


def slices_for(tier: str) -> bool:
    """Whether a service with this tier asks the worker for sliced inference."""
    return (tier or settings.IPCAI_DEFAULT_TIER) in settings.IPCAI_SLICED_TIERS
