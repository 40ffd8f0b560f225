"""CodeProject.AI's routes: custom models by name, the model list, the update probe.

Blue Iris with "default object detection" calls `/v1/vision/custom/ipcam-general` next to (or
instead of) `/v1/vision/detection`, lists models with `POST /v1/vision/custom/list`, and polls
`GET /v1/status/updateavailable`; when any of them fails it reports the AI as unavailable.
"""

from __future__ import annotations

import time

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.auth import ActiveTenantKey, require_active_grant
from apps.core.errors import ApiError
from apps.core.grants import KeyGrant
from apps.detection.api.detect import (
    DeepStackDetectionView,
    DetectionRequest,
    attach_call,
    error_responses,
)
from apps.detection.codeproject import (
    CUSTOM_MODELS,
    MODULE_ID,
    MODULE_NAME,
    as_deepstack_error,
    available_models,
    is_custom_model,
    model_services,
    server_version,
)
from apps.detection.serializers import (
    CodeProjectModelListSerializer,
    CodeProjectUpdateSerializer,
    DeepStackDetectionSerializer,
    DeepStackErrorSerializer,
    DeepStackResponseSerializer,
)


@extend_schema_view(
    post=extend_schema(
        operation_id="codeproject_custom_model",
        summary="Detect objects with a named model (CodeProject.AI-compatible)",
        description="CodeProject.AI's custom model route. `ipcam-general`: persons and vehicles; "
        "`ipcam-animal`: pets; `ipcam-combined` and `ipcam-dark`: every enabled service. Runs "
        "only the services the tenant has enabled; an unknown name is 404 with the valid ones.",
        request={"multipart/form-data": DeepStackDetectionSerializer},
        responses={
            200: OpenApiResponse(DeepStackResponseSerializer, description="DeepStack predictions."),
            404: OpenApiResponse(DeepStackErrorSerializer, description="Unknown model name."),
            **error_responses(DeepStackErrorSerializer),
        },
        tags=["detection"],
    )
)
class CustomModelView(DeepStackDetectionView):
    command = "custom"

    def initial(self, request: Request, *args, **kwargs) -> None:
        if not is_custom_model(kwargs["model"]):
            attach_call(request, self.endpoint)
            raise ApiError(
                404,
                "unknown_model",
                f"No custom model {kwargs['model']!r}; valid: {', '.join(CUSTOM_MODELS)}.",
            )
        super().initial(request, *args, **kwargs)

    def application_types_of(self, request: DetectionRequest, grant: KeyGrant) -> list[str]:
        enabled = super().application_types_of(request, grant)  # 403 when none is
        services = model_services(self.kwargs["model"], enabled)
        if not services:
            raise ApiError(
                403,
                "service_not_enabled",
                f"Model {self.kwargs['model']!r} needs a service tenant {grant.tenant_slug!r} "
                "has not enabled; a tenant owner can enable it in the dashboard (Services).",
            )
        return services


class CodeProjectView(APIView):
    """Key checks without inference: no metering, no quota, DeepStack-shaped errors."""

    authentication_classes = DeepStackDetectionView.authentication_classes  # + form field
    parser_classes = DeepStackDetectionView.parser_classes
    permission_classes = [ActiveTenantKey]

    def handle_exception(self, exc: Exception) -> Response:
        return as_deepstack_error(super().handle_exception(exc), self.request, custom=True)


class CustomModelListView(CodeProjectView):
    """Without a key, every model name (CodeProject.AI answers this keyless, and Blue Iris asks
    it so; the names are the same for every tenant); with a key, the names its services run. A
    key that is presented must be good (401), its tenant active (403)."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="codeproject_custom_list",
        summary="The model names (CodeProject.AI-compatible): all, or those a key can use",
        request=None,
        responses={
            200: CodeProjectModelListSerializer,
            401: OpenApiResponse(DeepStackErrorSerializer, description="A bad key."),
            403: OpenApiResponse(DeepStackErrorSerializer, description="Tenant inactive."),
        },
        tags=["detection"],
    )
    def post(self, request: Request, **path_key: str) -> Response:
        started = time.perf_counter()
        grant = require_active_grant(request)
        models = (
            available_models(grant.enabled_services()) if grant is not None else list(CUSTOM_MODELS)
        )
        return Response(
            {
                "success": True,
                "models": models,
                "moduleId": MODULE_ID,
                "moduleName": MODULE_NAME,
                "command": "list-custom",
                "code": 200,
                "analysisRoundTripMs": round((time.perf_counter() - started) * 1000),
            }
        )


def version_info() -> dict:
    """CodeProject.AI's VersionInfo (camelCase) for this deployment."""
    parts = [int(p) if p.isdigit() else 0 for p in server_version().split(".")[:3]]
    major, minor, patch = [*parts, 0, 0, 0][:3]
    return {
        "major": major,
        "minor": minor,
        "patch": patch,
        "preRelease": None,
        "securityUpdate": False,
        "build": 0,
        "file": "",
        "releaseNotes": "",
    }


class UpdateAvailableView(CodeProjectView):
    """A hosted service updates itself: always "current". No key needed, as Blue Iris sends
    none on this probe."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="codeproject_update_available",
        summary="Update probe (CodeProject.AI-compatible): never an update to install",
        responses={200: CodeProjectUpdateSerializer},
        tags=["detection"],
    )
    def get(self, request: Request, **path_key: str) -> Response:
        current = version_info()
        return Response(
            {
                "success": True,
                "message": "This is the current version",
                "version": current,
                "current": current,
                "latest": current,
                "updateAvailable": False,
            }
        )
