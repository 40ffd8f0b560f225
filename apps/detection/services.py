"""The detection flow, shared by the three endpoints: run inference, then the side effects.

Views parse their request style and format their response style; everything between (choosing
the threshold, calling the worker, mapping worker trouble to API errors) and everything after
(usage metering, request-event archiving) happens here, in one place.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from apps.alerts.plates import plates_unneeded
from apps.archive.enqueue import archive_answered_request
from apps.cameras.config import CameraConfig
from apps.cameras.filtering import filter_result
from apps.cameras.frames import remember_frame
from apps.cameras.resolve import check_camera_service
from apps.core.errors import ApiError
from apps.core.grants import KeyGrant
from apps.detection.camera_tracking import track_frame
from apps.detection.images import CheckedImage
from apps.detection.inference import InferenceError, get_inference_client
from apps.tenants.application_types import APPLICATION_LABELS, ApplicationType
from apps.tenants.model_tiers import model_for, slices_for
from apps.usage.metering import Usage, key_claim, record_usage


@dataclass
class DetectionCall:
    """One API request's bookkeeping, from arrival to its post-response side effects."""

    endpoint: str
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    timestamp: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    grant: KeyGrant | None = None
    presented_key: str = ""  # metered as a claim only when the key could not be checked
    camera: CameraConfig | None = None  # the request's camera (apps/cameras/resolve.py)
    captured_at: float | None = None  # the client's capture time, if sent (capture_time.py)
    events: list[dict] = field(default_factory=list)  # camera events this frame changed
    application_types: list[str] = field(default_factory=list)
    image: CheckedImage | None = None
    results: list[dict] = field(default_factory=list)  # the worker's answers, one per type
    parsed_body: dict | None = None  # the JSON body, parsed once per request
    answer: dict | None = None  # the body the client received (a 200), archived as it is
    error_code: str = ""  # set when the request ends in an error

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000.0

    @property
    def objects(self) -> int:
        return sum(len(result.get("bbox_coords", ())) for result in self.results)


def detect(
    call: DetectionCall,
    grant: KeyGrant,
    image: CheckedImage,
    application_type: str,
    min_confidence: float | None,
    slices: bool | None = None,
    every_frame_plates: bool = False,
) -> dict:
    """The worker's answer for one image and service, at the request's threshold or else the
    tenant's configured one for that service; sliced as the request, else the camera, else the
    service's tier says (slices_wanted)."""
    return detect_services(
        call, grant, image, [application_type], min_confidence, slices, every_frame_plates
    )[0]


def detect_services(
    call: DetectionCall,
    grant: KeyGrant,
    image: CheckedImage,
    application_types: list[str],
    min_confidence: float | None,
    slices: bool | None = None,
    every_frame_plates: bool = False,
) -> list[dict]:
    """One worker call for several services (the worker returns the union of their classes),
    split back into one answer per service, each at its own threshold. A DeepStack client with
    three services enabled so costs one inference, not three; metering and archiving still see
    one result per service. A camera's frame whose events need no plate read (its vehicles'
    plates settled, or no vehicle tracked: plates_unneeded) is sent without plate reading,
    unless `every_frame_plates` (CodeProject.AI's ALPR route: Blue Iris shows the plate of each
    frame it sends)."""
    call.grant = grant
    call.image = image
    thresholds: dict[str, float] = {}
    # The worker model of each service ("" = the worker's default) and its slices option.
    plans: dict[str, tuple[str, str]] = {}
    for application_type in application_types:
        if application_type not in call.application_types:
            call.application_types.append(application_type)
        service = grant.service(application_type)
        if service is None:  # the permission already checked; a race with a disable lands here
            raise ApiError(
                403, "service_not_enabled", f"The {application_type} service is not enabled."
            )
        if call.camera is not None:
            check_camera_service(call.camera, application_type)
        thresholds[application_type] = (
            service.min_confidence if min_confidence is None else min_confidence
        )
        plans[application_type] = (
            model_for(service.tier, service.model),
            worker_slices(slices, call.camera, service.tier),
        )
    camera = call.camera
    # A camera's class thresholds may be below its services': ask the worker for the lowest,
    # and let the camera's filter apply each class's own threshold.
    asked = dict.fromkeys(thresholds, camera.threshold_floor(thresholds)) if camera else thresholds
    unread = (
        camera is not None
        and not every_frame_plates
        and ApplicationType.PLATES in asked
        and plates_unneeded(camera.pk)
    )
    # Services served alike (model, slices) share one inference; a tenant model gets its own.
    answers = {
        plan: _infer_plan(image, {k: t for k, t in asked.items() if plans[k] == plan}, plan, unread)
        for plan in dict.fromkeys(plans.values())
    }
    if len(thresholds) == 1:
        results = list(answers.values())
    else:
        results = [
            result_for_service(answers[plans[kind]], APPLICATION_LABELS[kind], threshold, kind)
            for kind, threshold in asked.items()
        ]
    if camera is not None:  # the camera's filter: once, before response, metering, archiving
        results = [
            filter_result(camera, r, t) for r, t in zip(results, thresholds.values(), strict=True)
        ]
        call.events = track_frame(  # camera events (apps/alerts), on the frame's capture time
            camera,
            results,
            image.data,
            call.captured_at,
            call.parsed_body,
            call.timestamp,
            redact=call.grant.redact,
        )
    call.results.extend(results)
    return results


def worker_slices(requested: bool | None, camera: CameraConfig | None, tier: str) -> str:
    """The worker's `slices` option for one service ("" = off). Whether to slice: the
    request's `slices`, else the camera's setting, else the service's tier (the accurate tier
    slices). What: a camera's include zones only, when it has some, else the whole frame."""
    if requested is not None:
        wanted = requested
    elif camera is not None and camera.slicing != "tier":
        wanted = camera.slicing == "on"
    else:
        wanted = slices_for(tier)
    if not wanted:
        return ""
    return camera.slice_regions() if camera is not None else "auto"


def _infer_plan(
    image: CheckedImage, asked: dict[str, float], plan: tuple[str, str], unread: bool
) -> dict:
    """One worker call for the services of one plan (model, slices). When the frame's plates
    go unread, license-plates is asked as vehicles-detection (the same boxes, no reading) and
    answered with no plate read (_without_reads)."""
    if not (unread and ApplicationType.PLATES in asked):
        return _infer(image, asked, *plan)
    types: dict[str, float] = {}
    for kind, threshold in asked.items():
        if kind == ApplicationType.PLATES:
            kind = ApplicationType.VEHICLES.value
        types[kind] = min(threshold, types.get(kind, threshold))
    return _without_reads(_infer(image, types, *plan))


def _without_reads(answer: dict) -> dict:
    """A vehicles answer standing for a license-plates one whose reading was skipped: each box
    `null` in `plates` (not read in this frame; its event carries the plate), no frame plate."""
    kind = answer.get("application_type", "")
    if kind == ApplicationType.VEHICLES:
        kind = ApplicationType.PLATES.value
    return {
        **answer,
        "plates": [None] * len(answer.get("bbox_coords", [])),
        "frame_plates": [],
        "application_type": kind,
    }


def _infer(image: CheckedImage, thresholds: dict[str, float], model: str, slices: str) -> dict:
    try:
        answer = get_inference_client().detect(
            image.data,
            image.content_type,
            "+".join(thresholds),
            min(thresholds.values()),
            model=model,
            slices=slices,
        )
    except InferenceError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        raise ApiError(exc.status, exc.code, exc.message, headers) from None
    return dict(answer)  # a plain dict from here on: the camera filter and the views add to it


def result_for_service(
    combined: dict, labels: frozenset[str], threshold: float, application_type: str
) -> dict:
    """The part of a several-service worker answer that one service would have returned."""
    keep = [
        index
        for index, (names, scores) in enumerate(
            zip(combined["class_names"], combined["bbox_scores"], strict=True)
        )
        if names[0] in labels and scores[0] >= threshold
    ]
    fields: tuple[str, ...] = ("bbox_coords", "bbox_scores", "class_names")
    if "plates" in combined:  # license-plates asked with other services: plates per box
        fields = (*fields, "plates")
    return {
        **combined,
        **{field: [combined[field][i] for i in keep] for field in fields},
        "application_type": application_type,
    }


def unchecked_key_claim(call: DetectionCall, status_code: int) -> str:
    """The presented key's claim when a 503 came before the key could be checked (Redis down)."""
    return key_claim(call.presented_key) if call.grant is None and status_code == 503 else ""


def finish_request(call: DetectionCall, status_code: int, error_code: str = "") -> None:
    """Post-response side effects of every detection request, success or failure.

    This is the one place they happen: the usage event always; request-event archiving when
    the tenant's service saves request events (apps/archive: publish or spool, never blocking).
    """
    grant = call.grant
    record_usage(
        Usage(
            request_id=call.request_id,
            timestamp=call.timestamp,
            endpoint=call.endpoint,
            status_code=status_code,
            latency_ms=round(call.elapsed_ms(), 3),
            tenant_id=grant.tenant_id if grant else None,
            api_key_id=grant.key_id if grant else None,
            # A request that failed before it chose its service (Redis gone while its camera
            # was looked up, a suspended tenant) counts against the tenant's default one, as
            # a claimed key's 503 does when drained: the report's per-service rows then add up.
            application_type=",".join(call.application_types)
            or (grant.default_application_type if grant else ""),
            error_code=error_code,
            objects=call.objects,
            objects_per_service=tuple(len(r.get("bbox_coords", ())) for r in call.results),
            image_bytes=len(call.image.data) if call.image else 0,
            model=",".join(dict.fromkeys(r["model"] for r in call.results if r.get("model"))),
            camera=call.camera.camera_id if call.camera else "",
            claimed_key=unchecked_key_claim(call, status_code),
        )
    )
    # The camera's latest frame, not the dashboard's test images (signed in: no key id).
    keyed = grant is not None and grant.key_id is not None
    if status_code == 200 and keyed and call.camera is not None and call.image is not None:
        remember_frame(
            call.camera.camera_id,
            call.image.data,
            call.image.content_type,
            call.timestamp,
            call.results,
        )
    if status_code == 200 and grant is not None and call.image is not None:
        body = call.parsed_body if isinstance(call.parsed_body, dict) else {}
        archive_answered_request(
            grant=grant,
            image=call.image.data,
            # What the client got (the worker's answer only if the view left none).
            answers=[
                (application_type, archived_answer(call, result, application_type))
                for application_type, result in zip(
                    call.application_types, call.results, strict=False
                )
            ],
            # The seed body's own id, if sent; else the id the client was given (X-Request-Id,
            # CodeProject.AI's requestId).
            client_request_id=body.get("request_id") or call.request_id,
            portal_request_id=call.request_id,
            received_at=call.timestamp,
            models={
                application_type: result.get("model") or ""
                for application_type, result in zip(
                    call.application_types, call.results, strict=False
                )
            },
        )


def archived_answer(call: DetectionCall, result: dict, application_type: str) -> dict:
    """What the client got, as this service's archive record keeps it: the view's answer as
    it is for a one-service call; for a several-service DeepStack answer, its predictions of
    this service's classes only (a persons record lists no buses); the worker's answer when
    the view left none."""
    answer = call.answer
    if answer is None:
        return result
    predictions = answer.get("predictions")
    if len(call.results) == 1 or not isinstance(predictions, list):
        return answer
    labels = APPLICATION_LABELS[application_type]
    kept = [p for p in predictions if isinstance(p, dict) and p.get("label") in labels]
    part = {**answer, "predictions": kept}
    if "count" in answer:
        part["count"] = len(kept)
    if "message" in answer:  # CodeProject.AI's summary (codeproject.found_message, which
        # imports this module), of this service's part
        found = [str(p.get("label")) for p in kept]
        part["message"] = (
            "Found " + ", ".join(found[:3]) + ("..." if len(found) > 3 else "")
            if found
            else "No objects found"
        )
    return part
