"""Run models over an evaluation set through the inference worker and store their scores.

The images go through the same inference client as camera requests (the worker, or the
SageMaker endpoint), naming each model, so the numbers are those of the deployed models.
Detections are asked for down to a low threshold, as mAP needs; precision and recall are then
read at each service's own threshold. CPU time is the worker's own decode + infer +
postprocess time per image (queue time excluded), not the round trip.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from apps.archive.layout import sniff_image_type
from apps.core.storage import ArchiveStorage
from apps.detection.inference import InferenceClient, InferenceError
from apps.reports.datasets.boxes import Box, boxes_of_response
from apps.reports.evaluation.metrics import score_service
from apps.reports.models import EvaluationSet, ModelEvaluation
from apps.tenants.application_types import APPLICATION_LABELS
from apps.tenants.models import TenantService

# Low enough for mAP to see the whole precision/recall curve, high enough that DETR-style
# models do not send 300 boxes per image.
EVAL_MIN_CONFIDENCE = 0.05
CPU_STAGES = ("decode", "infer", "postprocess")


class EvaluationFailed(Exception):
    """The worker refused the model or the images (unknown model, worker down)."""


def ground_truth(evaluation_set: EvaluationSet, storage: ArchiveStorage) -> dict:
    return json.loads(storage.get(f"{evaluation_set.storage_prefix}/ground_truth.json"))


def evaluate_model(
    evaluation_set: EvaluationSet,
    model: str,
    client: InferenceClient,
    storage: ArchiveStorage,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> ModelEvaluation:
    """Score one model on the set, per service of the tenant, and store the result."""
    truth = ground_truth(evaluation_set, storage)
    services = {
        s.application_type: s.min_confidence
        for s in TenantService.objects.filter(tenant_id=evaluation_set.tenant_id, enabled=True)
    }
    if not services:
        raise EvaluationFailed(f"tenant {evaluation_set.tenant} has no enabled service")
    detections: dict[int, list[Box]] = {}
    cpu_ms = 0.0
    for done, image in enumerate(truth["images"], start=1):
        data = storage.get(f"{evaluation_set.storage_prefix}/images/{image['file_name']}")
        kind = sniff_image_type(data)
        try:
            answer = client.detect(
                data,
                kind.content_type if kind else "application/octet-stream",
                "+".join(services),
                EVAL_MIN_CONFIDENCE,
                model=model,
            )
        except InferenceError as exc:
            raise EvaluationFailed(f"model {model}: {exc.code}: {exc.message}") from exc
        if answer.get("model", model) != model:  # a worker that ignores `model=`
            raise EvaluationFailed(f"asked for {model}, the worker answered with {answer['model']}")
        detections[image["id"]] = boxes_of_response(answer)
        timings = answer.get("timings_ms") or {}
        cpu_ms += sum(float(timings.get(stage) or 0.0) for stage in CPU_STAGES)
        progress(done, len(truth["images"]))
    scores = [
        score_service(truth, detections, kind, APPLICATION_LABELS[kind], threshold)
        for kind, threshold in services.items()
    ]
    return ModelEvaluation.objects.create(
        tenant_id=evaluation_set.tenant_id,
        evaluation_set=evaluation_set,
        model=model,
        images=len(truth["images"]),
        cpu_ms_per_image=round(cpu_ms / max(1, len(truth["images"])), 2),
        services=[score.as_dict() for score in scores if score is not None],
    )
