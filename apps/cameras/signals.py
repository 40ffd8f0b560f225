"""Keep the camera config cache coherent whatever path changes a camera or a key binding.

As in apps/tenants/signals.py: snapshots are dropped at once and again after commit, so a
request racing the transaction cannot leave a stale copy behind.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.cameras.config import forget_bindings, forget_camera
from apps.cameras.models import Camera, CameraKey
from apps.tenants.models import ApiKey


def _now_and_on_commit(fn, *args) -> None:
    fn(*args)
    transaction.on_commit(lambda: fn(*args))


@receiver([post_save, post_delete], sender=Camera)
def _camera_changed(sender, instance: Camera, **_) -> None:
    # Bound keys' snapshots embed the camera. After a delete the bindings are gone (cascade),
    # but their keys were read by CameraKey's own post_delete below.
    key_ids = list(
        ApiKey.objects.filter(camera_binding__camera_id=instance.pk).values_list(
            "public_id", flat=True
        )
    )
    _now_and_on_commit(forget_camera, instance.public_id, key_ids)


@receiver([post_save, post_delete], sender=CameraKey)
def _binding_changed(sender, instance: CameraKey, **_) -> None:
    public_ids = list(
        ApiKey.objects.filter(pk=instance.api_key_id).values_list("public_id", flat=True)
    )
    _now_and_on_commit(forget_bindings, public_ids)
