"""The operator's tier choice says which tiers slice (they cost ~5x the inference)."""

from __future__ import annotations

from apps.operator.model_admin import tier_choices


def test_the_accurate_tier_is_shown_as_sliced(settings):
    settings.IPCAI_MODEL_TIERS = {"fast": "yolox_nano", "accurate": "deimv2_femto"}
    settings.IPCAI_SLICED_TIERS = ["accurate"]
    choices = dict(tier_choices())
    assert choices["accurate"] == "accurate (deimv2_femto, sliced)"
    assert choices["fast"] == "fast (yolox_nano)"
