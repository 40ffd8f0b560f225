"""CodeProject.AI's licence plate routes, for Blue Iris's ALPR setting: `POST /v1/image/alpr`
(the legacy route Blue Iris calls) and `POST /v1/vision/alpr`, multipart with the image as
`upload` (the module's input name; `image` is taken too), key as for DeepStack. Runs the
tenant's license-plates service; a tenant without it gets 403 like any other service."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.response import Response

from apps.core.auth import key_grant
from apps.core.errors import ApiError
from apps.core.grants import KeyGrant
from apps.detection import payloads
from apps.detection.alpr import alpr_message, alpr_predictions
from apps.detection.api.detect import (
    DeepStackDetectionView,
    DetectionRequest,
    error_responses,
)
from apps.detection.codeproject import codeproject_fields
from apps.detection.images import check_image
from apps.detection.serializers import DeepStackDetectionSerializer, DeepStackErrorSerializer
from apps.detection.services import detect
from apps.tenants.application_types import ApplicationType

UPLOAD_FIELDS = ("upload", "image")  # CodeProject.AI's ALPR input, then DeepStack's


@extend_schema_view(
    post=extend_schema(
        operation_id="codeproject_alpr",
        summary="Read licence plates (CodeProject.AI ALPR-compatible)",
        description="CodeProject.AI's ALPR module route, for Blue Iris. Each read plate: "
        "`confidence`, `label` ('Plate: <text>'), `plate`, and the plate's box. Needs the "
        "license-plates service.",
        request={"multipart/form-data": DeepStackDetectionSerializer},
        responses=error_responses(DeepStackErrorSerializer)
        | {200: OpenApiResponse(description="CodeProject.AI's ALPR answer.")},
        tags=["detection"],
    )
)
class AlprView(DeepStackDetectionView):
    command = "alpr"

    def application_types_of(self, request: DetectionRequest, grant: KeyGrant) -> list[str]:
        # All the enabled services, not DeepStack's boxes-only choice, which leaves
        # license-plates out when vehicles-detection is also enabled.
        enabled = self.enabled_services(request, grant)  # 403 when none is
        if ApplicationType.PLATES not in enabled:
            raise ApiError(
                403,
                "service_not_enabled",
                f"The license-plates service is not enabled for tenant {grant.tenant_slug!r}.",
            )
        return [ApplicationType.PLATES.value]

    def post(self, request: DetectionRequest, **path_key: str) -> Response:
        if payloads.media_type(request) not in payloads.MULTIPART_TYPES:
            raise ApiError(
                415,
                "unsupported_media_type",
                "Send the image as the multipart/form-data file field 'upload'.",
            )
        field = next((f for f in UPLOAD_FIELDS if f in request.FILES), UPLOAD_FIELDS[0])
        image = check_image(payloads.uploaded_file(request, field))
        threshold = payloads.min_confidence(payloads.form_field(request, "min_confidence"))
        grant = key_grant(request)
        # Every frame read, a camera's too: Blue Iris shows the plate of each frame it sends.
        result = detect(
            request.detection,
            grant,
            image,
            ApplicationType.PLATES.value,
            threshold,
            every_frame_plates=True,
        )
        predictions = alpr_predictions(result)
        return Response(
            {
                "success": True,
                "predictions": predictions,
                **codeproject_fields(request.detection, [result], predictions, self.command),
                "message": alpr_message(predictions),
            }
        )
