"""Model families: each module here knows one family's input and output.

A family is one file, `gpu_worker/families/<name>.py`, that defines `FAMILY`, a subclass of
`base.Family`; the manifest's `family` field names the module.
"""

from __future__ import annotations

import importlib

from gpu_worker.families.base import Detections, Family, Prepared
from gpu_worker.manifest import ModelSpec

__all__ = ["Detections", "Family", "Prepared", "create_family"]


def create_family(spec: ModelSpec, nms_iou: float = 0.45, max_detections: int = 100) -> Family:
    try:
        module = importlib.import_module(f"gpu_worker.families.{spec.family}")
    except ModuleNotFoundError:
        raise ValueError(
            f"model {spec.name!r} names family {spec.family!r}, which has no module "
            f"gpu_worker/families/{spec.family}.py"
        ) from None
    return module.FAMILY(spec, nms_iou=nms_iou, max_detections=max_detections)
