"""The operator registers detection models and assigns them (or a tier) to tenant services."""

from __future__ import annotations

import json

import pytest

from apps.tenants.model_registry import COCO80_NAMES
from apps.tenants.models import DetectionModel, TenantService
from harness.processes import model_dir
from tests.apps.factories import UserFactory

PICODET = "picodet_s_416_coco.onnx"


@pytest.fixture
def operator(client, db, settings):
    settings.IPCAI_MODEL_STORE = str(model_dir())
    client.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    return client


def register(operator, name: str, classes: list[str], tenant=None, **fields):
    return operator.post(
        "/admin/tenants/detectionmodel/add/",
        {
            "name": name,
            "file": PICODET,
            "family": "picodet",
            "input_width": 416,
            "input_height": 416,
            "class_names": json.dumps(classes),
            "licence": "Apache-2.0",
            "tenant": tenant.pk if tenant else "",
            **fields,
        },
    )


def assign(operator, service: TenantService, **fields):
    return operator.post(
        f"/admin/tenants/tenantservice/{service.pk}/change/",
        {
            "tenant": service.tenant_id,
            "application_type": service.application_type,
            "enabled": "on",
            "min_confidence": service.min_confidence,
            "retention_days": service.retention_days,
            "tier": "",
            "model": "",
            **fields,
        },
    )


def test_registering_fills_the_checksum_from_the_file(operator, tenant_a):
    response = register(operator, "alpha_pets", ["cat", "dog"], tenant_a)
    assert response.status_code == 302, response.content.decode()[:2000]
    model = DetectionModel.objects.get(name="alpha_pets")
    assert model.sha256.startswith("cdab77bd") and model.tenant == tenant_a
    assert operator.get("/admin/tenants/detectionmodel/").status_code == 200


def test_a_wrong_checksum_or_a_missing_file_is_refused_on_its_field(operator):
    page = register(operator, "bad", ["dog"], sha256="0" * 64).content.decode()
    assert "it is not the file you meant" in page
    page = register(operator, "gone", ["dog"], file="nope.onnx").content.decode()
    assert "Cannot read nope.onnx" in page
    assert not DetectionModel.objects.exists()


def test_a_model_without_the_services_classes_cannot_be_assigned(operator, tenant_a):
    register(operator, "alpha_pets", ["cat", "dog"], tenant_a)
    model = DetectionModel.objects.get(name="alpha_pets")
    persons = tenant_a.services.get(application_type="persons-detection")
    page = assign(operator, persons, model=model.pk).content.decode()
    assert "alpha_pets cannot serve persons-detection: it has no class person" in page
    assert TenantService.objects.get(pk=persons.pk).model is None
    pets = tenant_a.services.get(application_type="pets-detection")
    assert assign(operator, pets, model=model.pk).status_code == 302
    assert TenantService.objects.get(pk=pets.pk).model_name == "alpha_pets"


def test_another_tenants_model_cannot_be_assigned(operator, tenant_a, tenant_b):
    register(operator, "alpha_coco", list(COCO80_NAMES), tenant_a)
    persons_b = tenant_b.services.get(application_type="persons-detection")
    page = assign(operator, persons_b, model=DetectionModel.objects.get().pk).content.decode()
    assert "alpha_coco is another tenant" in page


def test_tiers_come_from_the_settings(operator, tenant_a, settings):
    persons = tenant_a.services.get(application_type="persons-detection")
    assert assign(operator, persons, tier="accurate").status_code == 302
    assert TenantService.objects.get(pk=persons.pk).model_name == "deimv2_femto"
    settings.IPCAI_MODEL_TIERS = {**settings.IPCAI_MODEL_TIERS, "accurate": "picodet_s_416"}
    assert TenantService.objects.get(pk=persons.pk).model_name == "picodet_s_416"
    page = assign(operator, persons, tier="turbo").content.decode()
    assert "turbo is not one of the available choices" in page


def test_operators_see_evaluations_side_by_side(operator, tenant_a):
    from apps.reports.models import EvaluationSet, ModelEvaluation

    evaluation_set = EvaluationSet.objects.create(tenant=tenant_a, name="gate", images=3)
    for model, score in (("yolox_nano", 0.41), ("deimv2_femto", 0.52)):
        ModelEvaluation.objects.create(
            tenant=tenant_a,
            evaluation_set=evaluation_set,
            model=model,
            images=3,
            cpu_ms_per_image=12.5,
            services=[
                {
                    "application_type": "persons-detection",
                    "map50_95": score,
                    "map50": 0.8,
                    "precision": 0.9,
                    "recall": 0.7,
                    "threshold": 0.5,
                }
            ],
        )
    assert operator.get("/admin/reports/modelevaluation/").status_code == 200
    assert operator.get("/admin/reports/evaluationset/").status_code == 200
    latest = ModelEvaluation.objects.get(model="deimv2_femto")
    page = operator.get(f"/admin/reports/modelevaluation/{latest.pk}/change/").content.decode()
    assert "<td>yolox_nano</td><td>0.410</td>" in page
    assert "<td>deimv2_femto</td><td>0.520</td>" in page


def test_the_tenants_services_page_names_the_model_that_answers(operator, tenant_a, alice, bob):
    from tests.apps.dashboard.conftest import signed_in

    register(operator, "alpha_pets", ["cat", "dog"], tenant_a)
    assign(operator, tenant_a.services.get(application_type="pets-detection"),
           model=DetectionModel.objects.get().pk)  # fmt: skip
    assign(operator, tenant_a.services.get(application_type="persons-detection"), tier="fast")
    for user in (alice, bob):  # the owner and a viewer both see it
        page = signed_in(user).get("/t/alpha/services/").content.decode()
        assert 'data-model="alpha_pets">Model: <strong>alpha_pets</strong> (your own model)' in page
        assert 'data-model="yolox_nano">Model: <strong>yolox_nano</strong> (fast tier)' in page
