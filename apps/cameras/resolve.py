"""Which camera a detection request is for: the key's bound camera, or the one it names.

A key bound to a camera sends that camera's frames whether or not it names it (DeepStack
clients cannot send a camera id); naming a different camera is refused. An unbound key may name
any camera of its own tenant (`camera` field or query parameter, or `X-Camera-Id`). Another
tenant's camera answers exactly like one that does not exist.
"""

from __future__ import annotations

from apps.cameras.config import CameraConfig, lookup
from apps.core.errors import ApiError
from apps.core.grants import KeyGrant

CAMERA_HEADER = "HTTP_X_CAMERA_ID"
CAMERA_FIELD = "camera"  # JSON body field, multipart form field and query parameter


def camera_for_request(grant: KeyGrant, named: object) -> CameraConfig | None:
    """The request's camera, None for a request without one (today's behaviour), or ApiError:
    400 for a camera id that is not a string, 404 for a camera not in the key's tenant, 403
    for a bound key naming another camera."""
    if named is not None and not isinstance(named, str):
        raise ApiError(400, "invalid_camera", "camera must be a camera id string (cam_...).")
    named = (named or "").strip() or None
    bound, camera = lookup(grant.public_id, named)
    if camera is not None and camera.tenant_id != grant.tenant_id:
        camera = None  # another tenant's camera: answered as unknown below
    if named is not None and camera is None:
        raise ApiError(404, "camera_not_found", f"No camera {named!r} in this tenant.")
    if bound is not None:
        if camera is not None and camera.camera_id != bound.camera_id:
            raise ApiError(
                403,
                "camera_not_bound",
                f"This API key is bound to camera {bound.camera_id!r} ({bound.name}); it cannot "
                f"send frames for {camera.camera_id!r}. Use that camera's own key.",
            )
        return bound
    return camera


def camera_services(camera: CameraConfig, enabled: list[str]) -> list[str]:
    """The camera's services that the tenant has enabled right now, in the camera's order."""
    return [s for s in camera.services if s in enabled]


def check_camera_service(camera: CameraConfig, application_type: str) -> None:
    if application_type not in camera.services:
        raise ApiError(
            403,
            "service_not_enabled_for_camera",
            f"The {application_type} service is not enabled for camera {camera.camera_id!r} "
            f"({camera.name}); its services: {', '.join(camera.services) or 'none'}.",
        )
