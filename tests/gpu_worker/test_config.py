"""Settings from the environment: the model list and the TensorRT precision."""

from __future__ import annotations

import pytest

from gpu_worker.config import SettingsError, WorkerSettings


def test_models_list_puts_the_default_first_and_ignores_blanks_and_repeats():
    settings = WorkerSettings.from_env({"IPCAI_MODELS": " deimv2_femto, yolox_nano,,deimv2_femto"})
    assert settings.served_models == ("deimv2_femto", "yolox_nano")
    assert settings.model == "deimv2_femto"


def test_a_single_ipcai_model_still_works():
    settings = WorkerSettings.from_env({"IPCAI_MODEL": "yolox_nano"})
    assert settings.served_models == ("yolox_nano",)


def test_trt_precision_is_checked_and_fp32_layers_listed():
    settings = WorkerSettings.from_env(
        {"IPCAI_TRT_PRECISION": "FP32", "IPCAI_TRT_FP32_LAYERS": "*GridSample*,/decoder/Log"}
    )
    assert settings.trt_precision == "fp32"
    assert settings.trt_fp32_layers == ("*GridSample*", "/decoder/Log")
    with pytest.raises(SettingsError, match="IPCAI_TRT_PRECISION"):
        WorkerSettings.from_env({"IPCAI_TRT_PRECISION": "int8"})
