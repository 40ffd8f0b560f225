"""Which model answers a tenant's service: a tenant model, a tier's, or the worker's default.

One real worker serves three shared files under four names: the default `yolox_nano`,
`deimv2_femto` for the accurate tier, and PicoDet registered as tenant A's own pets model,
with the manifest entry the portal's registry writes (`manage.py model_manifest`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from apps.tenants.application_types import ApplicationType
from apps.tenants.model_registry import COCO80_NAMES, assign_model, register_model
from apps.tenants.models import DetectionModel
from apps.tenants.services import enable_service
from apps.usage.metering import drain_usage
from apps.usage.models import UsageEvent
from harness.processes import model_dir
from harness.worker import running_worker

TENANT_MODEL = "alpha_pets_picodet"
PICODET_FILE = "picodet_s_416_coco.onnx"
PETS, PERSONS = ApplicationType.PETS, ApplicationType.PERSONS


_folders = []


def model_folder():
    return _folders[-1]


def tenant_model_fields() -> dict:
    return {"file": PICODET_FILE, "family": "picodet", "licence": "Apache-2.0 (PaddleDetection)"}


@pytest.fixture(scope="module")
def models_worker(tmp_path_factory) -> Iterator[str]:
    """A worker with IPCAI_MODELS=yolox_nano,deimv2_femto,<tenant model>, its folder holding
    the shared files and the registry's manifest entry for the tenant model."""
    folder = tmp_path_factory.mktemp("models")
    _folders.append(folder)
    for path in model_dir().glob("*.onnx"):
        (folder / path.name).symlink_to(path)
    entry = DetectionModel(
        name=TENANT_MODEL, class_names=list(COCO80_NAMES), **tenant_model_fields()
    )
    entry.sha256 = "cdab77bdde16e4f76bec734c4e5791801d1739e4c7ec1995e0e110e04300d0c2"
    (folder / "manifest.json").write_text(json.dumps({TENANT_MODEL: entry.manifest_entry()}))
    with running_worker(
        folder.parent,
        IPCAI_MODEL_DIR=str(folder),
        IPCAI_MODELS=f"yolox_nano,deimv2_femto,{TENANT_MODEL}",
    ) as (_, url):
        yield url


@pytest.fixture
def served(settings, models_worker, tenant_a, tenant_b) -> DetectionModel:
    """Tenant A's pets service on its own model; tenant B with pets on the default."""
    settings.IPCAI_INFERENCE_CLIENT = "http"
    settings.IPCAI_WORKER_URL = models_worker
    settings.IPCAI_MODEL_STORE = str(model_dir())
    model = register_model(TENANT_MODEL, tenant=tenant_a, **tenant_model_fields())
    assign_model(tenant_a.services.get(application_type=PETS), model=model)
    enable_service(tenant_b, PETS)
    return model


def detections(body: dict) -> list[tuple[str, list[float]]]:
    return [(d["label"], d["box"]) for d in body["detections"]]


def test_one_tenants_pets_come_from_its_model_and_the_others_from_the_default(
    served, post_native, key_a, key_b, pets_jpg
):
    own = post_native(PETS, pets_jpg, key_a.raw)
    default = post_native(PETS, pets_jpg, key_b.raw)
    assert own.status_code == default.status_code == 200
    assert own.json()["model"] == TENANT_MODEL
    assert default.json()["model"] == "yolox_nano"
    # Both find the three dogs, each with its own boxes.
    assert [label for label, _ in detections(own.json())] == ["dog"] * 3
    assert [label for label, _ in detections(default.json())] == ["dog"] * 3
    assert detections(own.json()) != detections(default.json())
    # Tenant A's persons service still uses the default.
    assert post_native(PERSONS, pets_jpg, key_a.raw).json()["model"] == "yolox_nano"
    # The registry writes exactly the manifest entry the worker was started with.
    assert {TENANT_MODEL: served.manifest_entry()} == json.loads(
        (model_folder() / "manifest.json").read_text()
    )
    drain_usage()
    used = set(UsageEvent.objects.filter(status_code=200).values_list("tenant__slug", "model"))
    assert used == {("alpha", TENANT_MODEL), ("bravo", "yolox_nano"), ("alpha", "yolox_nano")}


def test_a_tier_picks_its_model_and_the_answer_names_it(served, post_native, key_b, persons_jpg):
    assign_model(served.tenant.services.get(application_type=PERSONS), tier="accurate")
    bravo_persons = key_b.key.tenant.services.get(application_type=PERSONS)
    assert post_native(PERSONS, persons_jpg, key_b.raw).json()["model"] == "yolox_nano"
    assign_model(bravo_persons, tier="accurate")
    body = post_native(PERSONS, persons_jpg, key_b.raw).json()  # the cached grant was dropped
    assert body["model"] == "deimv2_femto"
    assert [d["label"] for d in body["detections"]] == ["person"] * 5


def test_the_deepstack_endpoint_runs_each_model_once_and_splits_the_answers(
    served, client, key_a, pets_jpg
):
    response = client.post(
        "/v1/vision/detection", {"image": _upload(pets_jpg)}, HTTP_X_API_KEY=key_a.raw
    )
    assert response.status_code == 200
    assert sorted(p["label"] for p in response.json()["predictions"]) == ["dog"] * 3


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("pets.jpg", data, content_type="image/jpeg")
