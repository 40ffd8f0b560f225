"""The model registry's state changes: register a model, assign a model or tier to a service.

The admin, `manage.py register_model` / `assign_model` and tests all call these. A model is
checked against its file in the model store (the folder the workers read, or S3) when it is
registered, so a typo in a name or a truncated upload is caught by the operator, not by the
first camera request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from apps.tenants.models import DetectionModel, Tenant, TenantService

COCO80_NAMES: tuple[str, ...] = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)  # fmt: skip  (the worker's manifest.COCO80; the worker is standalone, so no import)


def store_sha256(file: str) -> str:
    """sha256 of a model file in the store: `name.onnx` in IPCAI_MODEL_STORE, or s3://b/k.

    ValidationError when the file cannot be read, so the admin shows it on the field."""
    digest = hashlib.sha256()
    parts = urlsplit(file)
    try:
        if parts.scheme == "s3":
            import boto3

            body = boto3.client("s3").get_object(Bucket=parts.netloc, Key=parts.path.lstrip("/"))
            for chunk in body["Body"].iter_chunks(1 << 20):
                digest.update(chunk)
        else:
            root = Path(settings.IPCAI_MODEL_STORE).resolve()
            path = (root / file).resolve()
            if root not in path.parents:
                raise ValidationError({"file": "Name a file inside the model store."})
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
    except ValidationError:
        raise
    except Exception as exc:  # OSError, botocore errors: all mean "cannot read it"
        raise ValidationError(
            {"file": f"Cannot read {file} in the model store ({settings.IPCAI_MODEL_STORE}): {exc}"}
        ) from None
    return digest.hexdigest()


def check_model_file(model: DetectionModel) -> None:
    """Fill the checksum from the file, or check a given one against it."""
    actual = store_sha256(model.file)
    if model.sha256 and model.sha256.lower() != actual:
        raise ValidationError(
            {"sha256": f"The file's sha256 is {actual}; it is not the file you meant."}
        )
    model.sha256 = actual


def register_model(
    name: str,
    *,
    file: str,
    family: str,
    class_names: Iterable[str] = COCO80_NAMES,
    input_size: tuple[int, int] = (416, 416),
    licence: str = "",
    tenant: Tenant | None = None,
    sha256: str = "",
) -> DetectionModel:
    model = DetectionModel(
        name=name,
        file=file,
        family=family,
        class_names=list(class_names),
        input_width=input_size[0],
        input_height=input_size[1],
        licence=licence,
        tenant=tenant,
        sha256=sha256,
    )
    check_model_file(model)
    model.full_clean()
    model.save()
    return model


def assign_model(
    service: TenantService, *, tier: str = "", model: DetectionModel | None = None
) -> TenantService:
    """Serve the service with a tenant model, else a tier ("" = the deployment default).

    ValidationError when the model lacks the service's classes or belongs to another tenant."""
    service.tier = tier
    service.model = model
    service.full_clean()
    service.save(update_fields=["tier", "model"])
    return service
