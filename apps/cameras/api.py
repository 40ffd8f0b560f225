"""The tenant's cameras over the API (`/api/v1/cameras`), for scripts and `ipcai cameras`.

Authenticated by API key and scoped to the key's tenant in every query: another tenant's camera
id answers 404 exactly like an unknown one. Reading needs any key of the tenant, changing needs
the `manage` scope. A key bound to a camera is a camera's credential: it may send that camera's
frames and nothing else here (403), so a key leaked from a camera's settings page cannot redraw
every zone of the tenant. State changes go through apps/cameras/services.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.cameras.config import lookup
from apps.cameras.frames import last_seen
from apps.cameras.models import Camera, CameraKey
from apps.cameras.serializers import (
    CameraKeyBindSerializer,
    CameraKeyBoundSerializer,
    CameraListSerializer,
    CameraSerializer,
    CameraSettingsSerializer,
    CameraUpdateSerializer,
    KeyCameraSerializer,
)
from apps.cameras.services import (
    bind_key,
    create_camera,
    delete_camera,
    issue_camera_key,
    unbind_key,
    update_camera,
)
from apps.cameras.validation import CameraInvalid
from apps.core.auth import key_grant
from apps.core.errors import ApiError
from apps.core.grants import SCOPE_MANAGE
from apps.core.serializers import ErrorSerializer
from apps.core.views import TenantKeyView
from apps.tenants.models import ApiKey, Tenant
from apps.tenants.services import TooManyKeys

MAX_CAMERAS_PER_TENANT = 200  # bounds what a leaked manage key can create


class NotCameraKey(BasePermission):
    """Keys bound to a camera only send frames (403 for everything on this API)."""

    def has_permission(self, request: Request, view) -> bool:
        bound, _ = lookup(key_grant(request).public_id, None)
        if bound is not None:
            raise ApiError(
                403,
                "insufficient_scope",
                f"This API key is bound to camera {bound.camera_id!r}: it can send that "
                "camera's frames only. Manage cameras with another key or in the dashboard.",
            )
        return True


def camera_json(camera: Camera, seen: dict[str, float] | None = None) -> dict:
    seen_at = (seen if seen is not None else last_seen([camera.public_id])).get(camera.public_id)
    return {
        "id": camera.public_id,
        "name": camera.name,
        "services": camera.services,
        "class_thresholds": camera.class_thresholds,
        "min_box_area": camera.min_box_area,
        "min_box_pixels": camera.min_box_pixels,
        "anchor": camera.anchor,
        "slicing": camera.slicing,
        "zones": camera.zones,
        "offline_after_s": camera.offline_after_s,
        "health": health_json(camera),
        "keys": [b.api_key.public_id for b in camera.key_bindings.all()],
        "last_seen_at": datetime.fromtimestamp(seen_at, UTC).isoformat() if seen_at else None,
        "created_at": camera.created_at.isoformat(),
        "updated_at": camera.updated_at.isoformat(),
    }


def health_json(camera: Camera) -> dict:
    """The camera's health as apps/alerts/health.py last recorded it (state "" before its
    first frame)."""
    return {
        "state": camera.health_state,
        "reason": camera.health_reason,
        "since": camera.health_since.isoformat() if camera.health_since else None,
    }


def invalid(exc: CameraInvalid) -> ApiError:
    return ApiError(400, "invalid_camera", str(exc))


def body_object(request: Request) -> dict:
    if not isinstance(request.data, dict):
        raise ApiError(400, "invalid_body", "The body must be a JSON object.")
    return dict(request.data)


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    texts = {
        400: "A setting is invalid; the message names the field (e.g. zones[0].points).",
        401: "No API key, or a key that is unknown, revoked or expired.",
        403: "The tenant is inactive, the key lacks the manage scope, or it is bound to a camera.",
        404: "No such camera in this tenant (another tenant's camera looks the same).",
    }
    return {s: OpenApiResponse(ErrorSerializer, description=texts[s]) for s in statuses}


def tenant_cameras(tenant_id: int) -> QuerySet[Camera]:
    return Camera.objects.filter(tenant_id=tenant_id).prefetch_related("key_bindings__api_key")


def tenant_camera(tenant_id: int, camera_id: str) -> Camera:
    """The tenant's camera, else 404 (another tenant's camera looks exactly like an unknown one)."""
    camera = tenant_cameras(tenant_id).filter(public_id=camera_id).first()
    if camera is None:
        raise ApiError(404, "camera_not_found", f"No camera {camera_id!r} in this tenant.")
    return camera


@extend_schema(tags=["cameras"])
class CameraListView(TenantKeyView):
    # Any key of the tenant reads; changes need `manage`; camera-bound keys only send frames.
    scopes = ()
    write_scopes = (SCOPE_MANAGE,)
    extra_permissions = (NotCameraKey,)

    @extend_schema(
        summary="List the tenant's cameras",
        operation_id="cameras_list",
        responses={200: CameraListSerializer, **errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        cameras = list(tenant_cameras(self.tenant_id).order_by("name"))
        seen = last_seen([c.public_id for c in cameras])
        return Response({"cameras": [camera_json(c, seen) for c in cameras]})

    @extend_schema(
        summary="Create a camera (zones, class thresholds, size filter)",
        operation_id="cameras_create",
        request=CameraSettingsSerializer,
        responses={201: CameraSerializer, **errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        if tenant_cameras(self.tenant_id).count() >= MAX_CAMERAS_PER_TENANT:
            raise ApiError(
                403, "too_many_cameras", f"A tenant may have at most {MAX_CAMERAS_PER_TENANT}."
            )
        tenant = Tenant.objects.get(pk=self.tenant_id)
        try:
            camera = create_camera(tenant, body_object(request))
        except CameraInvalid as exc:
            raise invalid(exc) from None
        return Response(camera_json(camera, {}), status=201)


@extend_schema(tags=["cameras"])
class CameraDetailView(TenantKeyView):
    # Any key of the tenant reads; changes need `manage`; camera-bound keys only send frames.
    scopes = ()
    write_scopes = (SCOPE_MANAGE,)
    extra_permissions = (NotCameraKey,)

    @extend_schema(
        summary="Read a camera",
        operation_id="cameras_read",
        responses={200: CameraSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, camera_id: str) -> Response:
        return Response(camera_json(tenant_camera(self.tenant_id, camera_id)))

    @extend_schema(
        summary="Change some of a camera's settings (zones are replaced as a whole)",
        operation_id="cameras_update",
        request=CameraUpdateSerializer,
        responses={200: CameraSerializer, **errors(400, 401, 403, 404)},
    )
    def patch(self, request: Request, camera_id: str) -> Response:
        camera = tenant_camera(self.tenant_id, camera_id)
        try:
            update_camera(camera, body_object(request))
        except CameraInvalid as exc:
            raise invalid(exc) from None
        return Response(camera_json(camera))

    @extend_schema(
        summary="Delete a camera (its keys stay, unbound)",
        operation_id="cameras_delete",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, camera_id: str) -> Response:
        delete_camera(tenant_camera(self.tenant_id, camera_id))
        return Response(status=204)


@extend_schema(tags=["cameras"])
class CameraKeysView(TenantKeyView):
    # Any key of the tenant reads; changes need `manage`; camera-bound keys only send frames.
    scopes = ()
    write_scopes = (SCOPE_MANAGE,)
    extra_permissions = (NotCameraKey,)

    @extend_schema(
        summary="Bind an API key to the camera, or issue a new bound key",
        operation_id="cameras_bind_key",
        request=CameraKeyBindSerializer,
        responses={
            200: CameraKeyBoundSerializer,
            201: CameraKeyBoundSerializer,
            **errors(400, 401, 403, 404),
        },
    )
    def post(self, request: Request, camera_id: str) -> Response:
        camera = tenant_camera(self.tenant_id, camera_id)
        body = body_object(request)
        key_id = body.get("key")
        if key_id is None:
            try:
                # A key minted by a key never outlives it (the keys API's rule).
                grant = key_grant(request)
                key, secret = issue_camera_key(
                    camera,
                    name=str(body.get("name") or ""),
                    expires_at=(
                        datetime.fromtimestamp(grant.expires_at, tz=UTC)
                        if grant.expires_at
                        else None
                    ),
                )
            except TooManyKeys as exc:
                raise ApiError(403, "too_many_keys", str(exc)) from None
            answer = {
                "camera": camera_json(tenant_camera(self.tenant_id, camera_id)),
                "key": key.public_id,
                "secret": secret,
            }
            return Response(answer, status=201)
        existing = ApiKey.objects.filter(tenant_id=camera.tenant_id, public_id=key_id).first()
        if existing is None:
            raise ApiError(404, "key_not_found", f"No API key {key_id!r} in this tenant.")
        try:
            bind_key(camera, existing)
        except CameraInvalid as exc:
            raise invalid(exc) from None
        return Response(
            {
                "camera": camera_json(tenant_camera(self.tenant_id, camera_id)),
                "key": existing.public_id,
            }
        )


@extend_schema(tags=["cameras"])
class CameraKeyView(TenantKeyView):
    # Any key of the tenant reads; changes need `manage`; camera-bound keys only send frames.
    scopes = ()
    write_scopes = (SCOPE_MANAGE,)
    extra_permissions = (NotCameraKey,)

    @extend_schema(
        summary="Unbind an API key from the camera (the key keeps working, unbound)",
        operation_id="cameras_unbind_key",
        request=None,
        responses={200: CameraSerializer, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, camera_id: str, key_id: str) -> Response:
        camera = tenant_camera(self.tenant_id, camera_id)
        binding = camera.key_bindings.filter(api_key__public_id=key_id).first()
        if binding is None:
            raise ApiError(404, "key_not_found", f"Key {key_id!r} is not bound to this camera.")
        unbind_key(binding.api_key)
        return Response(camera_json(tenant_camera(self.tenant_id, camera_id)))


@extend_schema(tags=["cameras"])
class KeyCameraView(TenantKeyView):
    """The same binding seen from the keys API: which camera a key sends frames for."""

    # Any key of the tenant reads; changes need `manage`; camera-bound keys only send frames.
    scopes = ()
    write_scopes = (SCOPE_MANAGE,)
    extra_permissions = (NotCameraKey,)

    def get_key(self, key_id: str) -> ApiKey:
        key = ApiKey.objects.filter(tenant_id=self.tenant_id, public_id=key_id).first()
        if key is None:
            raise ApiError(404, "key_not_found", f"No API key {key_id!r} in this tenant.")
        return key

    @staticmethod
    def answer(key: ApiKey) -> Response:
        binding = CameraKey.objects.select_related("camera").filter(api_key=key).first()
        return Response(
            {"key": key.public_id, "camera": binding.camera.public_id if binding else None}
        )

    @extend_schema(
        summary="The camera a key is bound to (null: unbound)",
        operation_id="keys_camera_read",
        responses={200: KeyCameraSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, key_id: str) -> Response:
        return self.answer(self.get_key(key_id))

    @extend_schema(
        summary="Bind the key to a camera (its frames become that camera's)",
        operation_id="keys_camera_bind",
        request=KeyCameraSerializer,
        responses={200: KeyCameraSerializer, **errors(400, 401, 403, 404)},
    )
    def put(self, request: Request, key_id: str) -> Response:
        key = self.get_key(key_id)
        camera_id = body_object(request).get("camera")
        if not isinstance(camera_id, str):
            raise ApiError(400, "invalid_body", 'Send {"camera": "<camera id>"}.')
        try:
            bind_key(tenant_camera(self.tenant_id, camera_id), key)
        except CameraInvalid as exc:
            raise invalid(exc) from None
        return self.answer(key)

    @extend_schema(
        summary="Unbind the key from its camera (it keeps working, unbound)",
        operation_id="keys_camera_unbind",
        request=None,
        responses={200: KeyCameraSerializer, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, key_id: str) -> Response:
        key = self.get_key(key_id)
        unbind_key(key)
        return self.answer(key)
