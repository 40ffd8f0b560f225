"""Keep the API-key grant cache coherent whatever path changes a key, tenant or service.

Services, the admin and the dashboard all save models; hooking the saves here means none of
them can forget to invalidate. The snapshot is dropped at once and again after commit, so a
request racing the transaction cannot leave a stale copy behind.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.tenants.grants import forget_keys, forget_tenant
from apps.tenants.models import ApiKey, DetectionModel, Tenant, TenantService


def _now_and_on_commit(fn, *args) -> None:
    fn(*args)
    transaction.on_commit(lambda: fn(*args))


@receiver([post_save, post_delete], sender=ApiKey)
def _key_changed(sender, instance: ApiKey, **_) -> None:
    _now_and_on_commit(forget_keys, [instance.public_id])


@receiver([post_save, post_delete], sender=Tenant)
def _tenant_changed(sender, instance: Tenant, **_) -> None:
    _now_and_on_commit(forget_tenant, instance.pk)


@receiver([post_save, post_delete], sender=TenantService)
def _service_changed(sender, instance: TenantService, **_) -> None:
    _now_and_on_commit(forget_tenant, instance.tenant_id)


@receiver([post_save, post_delete], sender=DetectionModel)
def _model_changed(sender, instance: DetectionModel, **_) -> None:
    for tenant_id in set(instance.services.values_list("tenant_id", flat=True)):
        _now_and_on_commit(forget_tenant, tenant_id)
