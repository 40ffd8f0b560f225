"""CodeProject.AI's side of the DeepStack API: custom model names, its response fields, and
DeepStack's own error messages.

CodeProject.AI kept DeepStack's routes and prediction objects and added fields its clients read
(Blue Iris shows `message` and the timings, Agent DVR checks `count`), so every vision route
answers DeepStack's two fields plus these; a DeepStack client reads only what it always read.
The shapes follow CodeProject.AI's YOLO module and server (`message` built from the first three
labels, `code` 200 / error status, camelCase timings in whole milliseconds).
"""

from __future__ import annotations

from email.utils import formatdate
from importlib.metadata import PackageNotFoundError, version

from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response

from apps.detection.payloads import form_field
from apps.detection.services import DetectionCall
from apps.tenants.application_types import APPLICATION_LABELS, ApplicationType

MODULE_ID = "ipcai-detection"
MODULE_NAME = "IPC AI detection"

# CodeProject.AI's YOLO module ships these model names and Blue Iris asks for them by name
# ("default object detection" calls ipcam-general); each maps to our services. None: every
# service the tenant has enabled. ipcam-dark is a low-light model there; ours is one detector
# for all lighting, so it runs the same services as ipcam-combined.
CUSTOM_MODELS: dict[str, tuple[str, ...] | None] = {
    "ipcam-general": (ApplicationType.PERSONS.value, ApplicationType.VEHICLES.value),
    "ipcam-combined": None,
    "ipcam-animal": (ApplicationType.PETS.value,),
    "ipcam-dark": None,
}

# DeepStack's error strings (its server's middlewares), which camera software shows verbatim.
NO_IMAGE = "No valid image file found"
BAD_MIN_CONFIDENCE = "Invalid value for min_confidence"
MIN_CONFIDENCE_ABOVE_ONE = "min_confidence cannot be greater than 1"
BAD_KEY = "Incorrect api key"
DETECTION_OFF = "Detection endpoint not activated"
CUSTOM_OFF = "Custom vision endpoint not activated"


def is_custom_model(name: str) -> bool:
    return name in CUSTOM_MODELS


def model_services(name: str, enabled: list[str]) -> list[str]:
    """The enabled services a custom model runs (empty: the model is not available)."""
    wanted = CUSTOM_MODELS[name]
    return list(enabled) if wanted is None else [s for s in wanted if s in enabled]


def available_models(enabled: list[str]) -> list[str]:
    """The custom model names that run at least one of these services."""
    return [name for name in CUSTOM_MODELS if model_services(name, enabled)]


def deepstack_services(enabled: list[str]) -> list[str]:
    """The services a DeepStack call runs: boxes only, so license-plates is left out where
    vehicles-detection returns the same boxes without the cost of reading plates."""
    if ApplicationType.PLATES in enabled and ApplicationType.VEHICLES in enabled:
        return [s for s in enabled if s != ApplicationType.PLATES]
    return enabled


def allowed_labels(application_types: list[str]) -> frozenset[str]:
    return frozenset().union(*(APPLICATION_LABELS[t] for t in application_types))


def found_message(predictions: list[dict]) -> str:
    """CodeProject.AI's summary: "Found person, dog, car..." (first three labels), or
    "No objects found"."""
    labels = [p["label"] for p in predictions]
    if not labels:
        return "No objects found"
    return "Found " + ", ".join(labels[:3]) + ("..." if len(labels) > 3 else "")


def execution_provider() -> str:
    """A SageMaker deployment runs TensorRT on a GPU; the embedded worker ONNX Runtime on CPU."""
    return "GPU" if settings.IPCAI_INFERENCE_CLIENT == "sagemaker" else "CPU"


def server_version() -> str:
    try:
        return version("ipcai-saas")
    except PackageNotFoundError:  # a source checkout that was never installed
        return "0.0.0"


def codeproject_fields(
    call: DetectionCall, results: list[dict], predictions: list[dict], command: str
) -> dict:
    """The fields CodeProject.AI adds to a successful vision answer, typed as its clients
    parse them (ints for counts and milliseconds, a bool for canUseGPU)."""
    worker = results[0].get("timings_ms", {}) if results else {}
    return {
        "count": len(predictions),
        "message": found_message(predictions),
        "inferenceMs": round(worker.get("infer", 0)),
        "processMs": round(worker.get("total", 0)),
        "analysisRoundTripMs": round(call.elapsed_ms()),
        "moduleId": MODULE_ID,
        "moduleName": MODULE_NAME,
        "command": command,
        "executionProvider": execution_provider(),
        "canUseGPU": execution_provider() == "GPU",
        "code": 200,
        "requestId": call.request_id,
        "timestampUTC": formatdate(usegmt=True),
    }


def deepstack_message(
    status: int, code: str, message: str, *, custom: bool, min_confidence: object = None
) -> str:
    """DeepStack's own error text where DeepStack has one for this failure, else ours."""
    if code == "missing_image":
        return NO_IMAGE
    if code == "invalid_min_confidence":
        try:
            number = float(min_confidence)  # type: ignore[arg-type]  # refused below
        except (TypeError, ValueError):
            return BAD_MIN_CONFIDENCE
        return MIN_CONFIDENCE_ABOVE_ONE if number > 1 else message
    if status == 401:
        return BAD_KEY
    if code == "service_not_enabled":
        return CUSTOM_OFF if custom else DETECTION_OFF
    return message


def error_fields(status: int, message: str) -> dict:
    """DeepStack's error body plus CodeProject.AI's numeric code."""
    return {"success": False, "error": message, "code": status}


def as_deepstack_error(response: Response, request: Request, *, custom: bool) -> Response:
    """Our `{"error": {code, message}}` answer rewritten as DeepStack's, status kept."""
    error = response.data.get("error") if isinstance(response.data, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code", ""))
        # Only raised once the form is parsed, so reading it again cannot fail.
        sent = form_field(request, "min_confidence") if code == "invalid_min_confidence" else None
        message = deepstack_message(
            response.status_code,
            code,
            str(error.get("message", "error")),
            custom=custom,
            min_confidence=sent,
        )
        response.data = error_fields(response.status_code, message)
    return response
