"""The three detection endpoints. Thin: parse the request style, call services.detect, format.

Authentication, the service check and rate/quota limits are the shared DRF classes in
access.py; the post-response side effects run in services.finish_request for every request.
"""

from __future__ import annotations

from typing import cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.cameras.resolve import CAMERA_FIELD, CAMERA_HEADER, camera_for_request, camera_services
from apps.core.auth import (
    ApiKeyAuthentication,
    ApiKeyOrFormFieldAuthentication,
    RequireScope,
    ServiceEnabled,
    ask_the_operator,
    key_grant,
)
from apps.core.errors import ApiError
from apps.core.grants import SCOPE_DETECT, KeyGrant
from apps.core.rendering import AlwaysJson, OrjsonRenderer
from apps.core.serializers import ErrorSerializer
from apps.detection import payloads
from apps.detection.capture_time import explicit_time
from apps.detection.codeproject import (
    allowed_labels,
    as_deepstack_error,
    codeproject_fields,
    deepstack_services,
)
from apps.detection.images import check_image, decode_base64_image
from apps.detection.responses import (
    deepstack_predictions,
    deepstack_success,
    native_response,
    seed_response,
)
from apps.detection.serializers import (
    SLICES_HELP,
    DeepStackDetectionSerializer,
    DeepStackErrorSerializer,
    DeepStackResponseSerializer,
    NativeJsonSerializer,
    NativeMultipartSerializer,
    NativeResponseSerializer,
    SeedInferenceSerializer,
    SeedResponseSerializer,
)
from apps.detection.services import DetectionCall, detect, detect_services, finish_request
from apps.tenants.application_types import ApplicationType
from apps.tenants.limits import KeyRateAndQuota

ERROR_STATUSES = {
    400: "The body is not what this endpoint takes: invalid JSON or base64, no image, not a "
    "JPEG/PNG, an unknown application type or a min_confidence outside 0..1.",
    401: "No API key, or a key that is unknown, revoked or expired.",
    403: "The tenant is inactive, or the service is not enabled for it.",
    413: "The body or image is too large (bytes, or pixels read from the image header).",
    415: "Unsupported Content-Type or image format.",
    429: "Over the per-key rate limit or the tenant's monthly quota; see Retry-After.",
    502: "The inference worker failed or did not answer in time.",
    503: "The inference worker is overloaded or unavailable; see Retry-After.",
}


def error_responses(serializer) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(serializer, description=text)
        for status, text in ERROR_STATUSES.items()
    }


class DetectionRequest(Request):
    """A detection view's request, for annotations: DetectionView.initial attaches the call's
    bookkeeping as `detection` first thing."""

    detection: DetectionCall


def attach_call(request: Request, endpoint: str) -> DetectionCall:
    """A fresh DetectionCall on the request: what every later step (and the metering after
    the response, errors included) reads."""
    call = cast(DetectionRequest, request).detection = DetectionCall(endpoint=endpoint)
    return call


class DetectionView(APIView):
    """Shared plumbing: per-request bookkeeping, body-size check, side effects on every exit."""

    endpoint: str
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [ServiceEnabled, RequireScope(SCOPE_DETECT)]
    throttle_classes = [KeyRateAndQuota]
    parser_classes = [MultiPartParser, FormParser]  # JSON and raw bodies are read directly
    renderer_classes = [OrjsonRenderer]
    content_negotiation_class = AlwaysJson

    def initial(self, request: Request, *args, **kwargs) -> None:
        attach_call(request, self.endpoint)
        payloads.check_content_length(request)
        super().initial(request, *args, **kwargs)

    def requested_application_types(self, request: DetectionRequest, grant: KeyGrant) -> list[str]:
        """The services this request needs enabled (read by the ServiceEnabled permission),
        remembered so even a failed request is metered against its service."""
        types = self.application_types_of(request, grant)
        request.detection.application_types = list(types)
        return types

    def application_types_of(self, request: DetectionRequest, grant: KeyGrant) -> list[str]:
        raise NotImplementedError

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        error = response.data.get("error") if isinstance(response.data, dict) else None
        if isinstance(error, dict):
            cast(DetectionRequest, self.request).detection.error_code = str(error.get("code", ""))
        return response

    def perform_authentication(self, request: Request) -> None:
        # Kept before the check: if Redis fails it, the 503 is still metered to the key's
        # tenant (verified at drain time, apps/usage/metering.py key_claim).
        # (Try it's session authentication presents no key.)
        detection_request = cast(DetectionRequest, request)  # initial attached the call
        call = detection_request.detection
        authenticator = request.authenticators[0] if request.authenticators else None
        presented = getattr(authenticator, "presented_key", None)
        call.presented_key = (presented(request) if presented else None) or ""
        super().perform_authentication(request)
        if isinstance(request.auth, KeyGrant):  # attribute even 4xx answers to the tenant
            call.grant = request.auth
            # Before the permissions: a camera narrows the services a request may run.
            call.camera = camera_for_request(request.auth, self.camera_named(detection_request))
            if call.camera is not None:  # camera events run on capture time
                call.captured_at = explicit_time(request)

    def camera_named(self, request: DetectionRequest) -> object:
        """The camera id the request names: `X-Camera-Id`, `?camera=`, else its body's field."""
        return (
            request.META.get(CAMERA_HEADER)
            or request.query_params.get(CAMERA_FIELD)
            or self.body_camera(request)
        )

    def body_camera(self, request: DetectionRequest) -> object:
        return None

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        call: DetectionCall | None = getattr(request, "detection", None)
        if call is not None:
            response["X-Request-Id"] = call.request_id
            if response.status_code == 200 and isinstance(response.data, dict):
                call.answer = response.data
            finish_request(call, response.status_code, call.error_code)
        return response


@extend_schema_view(
    post=extend_schema(
        operation_id="inference",
        summary="Detect objects (seed-compatible)",
        description="The original service's request and response, unchanged: a base64 image in "
        "JSON. Runs the tenant's default service unless the body names `application_type`.",
        request={"application/json": SeedInferenceSerializer},
        responses={
            200: OpenApiResponse(
                SeedResponseSerializer, description="The objects found, in the seed's format."
            ),
            **error_responses(ErrorSerializer),
        },
        tags=["detection"],
    )
)
class SeedInferenceView(DetectionView):
    endpoint = "seed"

    def application_types_of(self, request: DetectionRequest, grant: KeyGrant) -> list[str]:
        body = self._body(request)
        requested = body.get("application_type")
        return [
            payloads.application_type(requested) if requested else grant.default_application_type
        ]

    def body_camera(self, request: DetectionRequest) -> object:
        return self._body(request).get(CAMERA_FIELD)

    def post(self, request: DetectionRequest) -> Response:
        body = self._body(request)
        image = check_image(decode_base64_image(body.get("image_base64_enc"), "image_base64_enc"))
        grant = key_grant(request)
        (application_type,) = self.application_types_of(request, grant)
        result = detect(
            request.detection,
            grant,
            image,
            application_type,
            payloads.min_confidence(body.get("min_confidence")),
        )
        return Response(seed_response(request.detection, result))

    @staticmethod
    def _body(request: DetectionRequest) -> dict:
        call = request.detection
        if call.parsed_body is None:
            call.parsed_body = payloads.json_object(request)
        return call.parsed_body


@extend_schema_view(
    post=extend_schema(
        operation_id="detect",
        summary="Detect objects (native API)",
        description="Send the image as a raw `image/jpeg` or `image/png` body (fastest), as the "
        "multipart file field `image`, or base64 in JSON (`image_base64`).",
        parameters=[
            OpenApiParameter(
                "application_type",
                str,
                OpenApiParameter.PATH,
                enum=ApplicationType.values,
                description="Which service to run.",
            ),
            OpenApiParameter(
                "min_confidence",
                float,
                OpenApiParameter.QUERY,
                required=False,
                description="Only return objects scoring at least this (0 to 1); overrides the "
                "service's configured threshold.",
            ),
            OpenApiParameter(
                "slices",
                str,
                OpenApiParameter.QUERY,
                required=False,
                enum=["auto", "off"],
                description=SLICES_HELP,
            ),
            OpenApiParameter(
                "timestamp",
                str,
                OpenApiParameter.QUERY,
                required=False,
                description="Camera requests: when the frame was captured (Unix seconds or ISO "
                "8601; also the `X-Capture-Time` header). Camera events run on capture time; "
                "without it, the arrival time.",
            ),
        ],
        request={
            "image/jpeg": OpenApiTypes.BINARY,
            "image/png": OpenApiTypes.BINARY,
            "multipart/form-data": NativeMultipartSerializer,
            "application/json": NativeJsonSerializer,
        },
        responses={
            200: OpenApiResponse(
                NativeResponseSerializer, description="The objects found, with labels and scores."
            ),
            404: OpenApiResponse(ErrorSerializer, description="Unknown application type."),
            **error_responses(ErrorSerializer),
        },
        tags=["detection"],
    )
)
class NativeDetectView(DetectionView):
    endpoint = "native"

    def initial(self, request: Request, *args, **kwargs) -> None:
        application_type = kwargs["application_type"]
        if application_type not in ApplicationType.values:
            attach_call(request, self.endpoint)
            raise ApiError(
                404,
                "unknown_application_type",
                f"No service {application_type!r}; valid: {', '.join(ApplicationType.values)}.",
            )
        super().initial(request, *args, **kwargs)

    def application_types_of(self, request: DetectionRequest, grant: KeyGrant) -> list[str]:
        return [self.kwargs["application_type"]]

    def body_camera(self, request: DetectionRequest) -> object:
        content_type = payloads.media_type(request)
        if content_type in payloads.MULTIPART_TYPES:
            return payloads.form_field(request, CAMERA_FIELD)
        if content_type == "application/json":
            request.detection.parsed_body = payloads.json_object(request)
            return request.detection.parsed_body.get(CAMERA_FIELD)
        return None

    def post(self, request: DetectionRequest, application_type: str) -> Response:
        image_bytes, body_threshold = self._image_and_threshold(request)
        threshold = payloads.min_confidence(request.query_params.get("min_confidence"))
        result = detect(
            request.detection,
            key_grant(request),
            check_image(image_bytes),
            application_type,
            body_threshold if threshold is None else threshold,
            self._slices(request),
        )
        return Response(native_response(request.detection, result))

    @staticmethod
    def _slices(request: DetectionRequest) -> bool | None:
        """`slices` (auto | off) from the query string, else the form or JSON body."""
        value = request.query_params.get("slices")
        content_type = payloads.media_type(request)
        if value is None and content_type in payloads.MULTIPART_TYPES:
            value = payloads.form_field(request, "slices")
        elif value is None and content_type == "application/json":
            body = request.detection.parsed_body or payloads.json_object(request)
            value = body.get("slices")
        return payloads.slices(value)

    @staticmethod
    def _image_and_threshold(request: DetectionRequest) -> tuple[bytes, float | None]:
        content_type = payloads.media_type(request)
        if content_type in payloads.RAW_IMAGE_TYPES:
            return payloads.read_body(request), None
        if content_type in payloads.MULTIPART_TYPES:
            threshold = payloads.min_confidence(payloads.form_field(request, "min_confidence"))
            return payloads.uploaded_file(request), threshold
        if content_type == "application/json":
            body = request.detection.parsed_body or payloads.json_object(request)
            image = decode_base64_image(body.get("image_base64"), "image_base64")
            return image, payloads.min_confidence(body.get("min_confidence"))
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Content-Type {content_type or '(none)'!r} is not supported; send image/jpeg, "
            "image/png, multipart/form-data or application/json.",
        )


@extend_schema_view(
    post=extend_schema(
        operation_id="deepstack_detection",
        summary="Detect objects (DeepStack-compatible)",
        description="DeepStack's object detection API, so camera software that speaks DeepStack "
        "or CodeProject.AI (Blue Iris, Home Assistant, Agent DVR, Frigate) works unchanged. "
        "Returns the labels of every service enabled for the tenant. Errors keep their HTTP status "
        'and use DeepStack\'s body: `{"success": false, "error": "..."}`.',
        request={"multipart/form-data": DeepStackDetectionSerializer},
        responses={
            200: OpenApiResponse(DeepStackResponseSerializer, description="DeepStack predictions."),
            **error_responses(DeepStackErrorSerializer),
        },
        tags=["detection"],
    )
)
class DeepStackDetectionView(DetectionView):
    endpoint = "deepstack"
    # DeepStack clients may send the key as the `api_key` form field; no other view reads one.
    authentication_classes = [ApiKeyOrFormFieldAuthentication]
    command = "detect"  # CodeProject.AI's name for this call

    def application_types_of(self, request: DetectionRequest, grant: KeyGrant) -> list[str]:
        return deepstack_services(self.enabled_services(request, grant))

    def enabled_services(self, request: DetectionRequest, grant: KeyGrant) -> list[str]:
        """The tenant's enabled services, narrowed to the request's camera's; 403 when none."""
        enabled = grant.enabled_services()
        camera = request.detection.camera
        if camera is not None:
            enabled = camera_services(camera, enabled)
            if not enabled:
                raise ApiError(
                    403,
                    "service_not_enabled_for_camera",
                    f"None of camera {camera.camera_id!r}'s services is enabled for the tenant.",
                )
        if not enabled:
            raise ApiError(
                403,
                "service_not_enabled",
                f"No detection service is enabled for tenant {grant.tenant_slug!r}. Only the "
                f"operator enables services: {ask_the_operator()}.",
            )
        return enabled

    def body_camera(self, request: DetectionRequest) -> object:
        if payloads.media_type(request) in payloads.MULTIPART_TYPES:
            return payloads.form_field(request, CAMERA_FIELD)
        return None

    def post(self, request: DetectionRequest, **path_key: str) -> Response:
        if payloads.media_type(request) not in payloads.MULTIPART_TYPES:
            raise ApiError(
                415,
                "unsupported_media_type",
                "Send the image as the multipart/form-data file field 'image'.",
            )
        image = check_image(payloads.uploaded_file(request))
        threshold = payloads.min_confidence(payloads.form_field(request, "min_confidence"))
        grant = key_grant(request)
        application_types = self.application_types_of(request, grant)
        results = detect_services(request.detection, grant, image, application_types, threshold)
        predictions = deepstack_predictions(results, allowed_labels(application_types))
        return Response(
            {
                **deepstack_success(predictions),
                **codeproject_fields(request.detection, results, predictions, self.command),
            }
        )

    def handle_exception(self, exc: Exception) -> Response:
        """Errors keep their status but read as DeepStack's (its messages where it has one)
        with CodeProject.AI's numeric code: camera software shows `error` as it is."""
        response = super().handle_exception(exc)
        return as_deepstack_error(response, self.request, custom=self.command != "detect")
