"""Several models in one worker (IPCAI_MODELS): each request picks one by name, each model
answers for itself, and /ping and /metrics cover them all. One of the three is a custom model
registered by the model folder's manifest.json, as a tenant's model would be."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from gpu_worker.config import available_cpus
from gpu_worker.manifest import load_manifest
from harness.images import seed_image
from harness.processes import model_dir
from harness.prometheus import metric
from harness.worker import running_worker
from tests.gpu_worker.conftest import WorkerClient

MODELS = ("deimv2_femto", "yolox_nano", "acme_picodet")


@pytest.fixture(scope="session")
def tenant_model_dir(tmp_path_factory):
    """A model folder like a deployment's: the shared files plus a manifest.json that
    registers the PicoDet file as the custom model `acme_picodet`."""
    folder = tmp_path_factory.mktemp("models")
    for spec in load_manifest().values():
        (folder / spec.file).symlink_to(model_dir() / spec.file)
    picodet = load_manifest()["picodet_s_416"]
    entry = {
        "family": "picodet",
        "file": picodet.file,
        "sha256": picodet.sha256,
        "input_size": list(picodet.input_size),
        "classes": "coco80",
        "license": "Apache-2.0",
        "description": "a tenant's model, registered by the folder's manifest",
    }
    (folder / "manifest.json").write_text(json.dumps({"acme_picodet": entry}))
    return folder


@pytest.fixture(scope="session")
def models_worker(worker_logs, tenant_model_dir) -> Iterator[WorkerClient]:
    with running_worker(
        worker_logs,
        model="multi",
        IPCAI_MODELS=",".join(MODELS),
        IPCAI_MODEL_DIR=str(tenant_model_dir),
    ) as (server, url):
        yield WorkerClient(url, server.log_path)


def detections(body: dict) -> list:
    return list(zip(body["class_names"], body["bbox_coords"], strict=True))


def test_the_same_image_gets_each_models_own_answer_named_in_the_response(models_worker, worker):
    image = seed_image("vehicles")
    answers = {}
    for name in MODELS:
        response = models_worker.invoke_raw(
            image, attributes=f"application_type=vehicles-detection,model={name}"
        )
        assert response.status_code == 200, response.text
        assert response.json()["model"] == name
        answers[name] = detections(response.json())
    assert len({json.dumps(answer) for answer in answers.values()}) == 3  # three models
    # ...each the answer that model gives alone: yolox_nano's single-model worker agrees.
    alone = worker.invoke_raw(image, attributes="application_type=vehicles-detection")
    assert answers["yolox_nano"] == detections(alone.json())


def test_json_body_names_the_model_and_the_first_listed_is_the_default(models_worker):
    named = models_worker.invoke_json(seed_image("pets"), model="yolox_nano")
    assert named.status_code == 200 and named.json()["model"] == "yolox_nano"
    default = models_worker.invoke_json(seed_image("pets"))
    assert default.status_code == 200 and default.json()["model"] == "deimv2_femto"


@pytest.mark.parametrize("how", ["attributes", "json"])
def test_an_unknown_model_is_400_listing_the_loaded_ones(models_worker, how):
    if how == "attributes":
        response = models_worker.invoke_raw(seed_image("pets"), attributes="model=yolov9_e")
    else:
        response = models_worker.invoke_json(seed_image("pets"), model="yolov9_e")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unknown_model"
    assert "yolov9_e" in error["message"]
    assert error["message"].endswith("loaded: deimv2_femto, yolox_nano, acme_picodet")


def test_ping_lists_every_model_once_all_are_loaded(models_worker):
    body = models_worker.get("/ping").json()
    assert body["status"] == "ok"
    assert body["model"] == "deimv2_femto" and body["models"] == list(MODELS)


def test_metrics_are_labelled_by_model(models_worker):
    before = models_worker.get("/metrics").text
    models_worker.invoke_raw(seed_image("pets"), attributes="model=acme_picodet")
    models_worker.invoke_raw(seed_image("pets"), attributes="model=nope")
    after = models_worker.get("/metrics").text

    def added(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert added("ipcai_worker_requests_total", model="acme_picodet", status="200") == 1
    assert added("ipcai_worker_requests_total", model="deimv2_femto") == 0
    assert added("ipcai_worker_requests_total", model="unknown", status="400") == 1
    assert added("ipcai_worker_batch_size_count", model="acme_picodet") == 1
    assert added("ipcai_worker_stage_seconds_count", model="acme_picodet", stage="infer") == 1
    for name in MODELS:
        assert metric(after, "ipcai_worker_model_info", model=name) == 1
        assert metric(after, "ipcai_worker_model_memory_bytes", model=name) > 0
        assert metric(after, "ipcai_worker_model_load_seconds", model=name, phase="warmup") > 0
        assert f'ipcai_worker_queue_depth{{model="{name}"}}' in after
    assert metric(after, "ipcai_worker_model_info", model="deimv2_femto", default="true") == 1
    assert metric(after, "ipcai_worker_ready") == 1


@pytest.mark.skipif(available_cpus() < 2, reason="one core: no all-cores session to use")
def test_a_lone_request_runs_on_every_core_and_a_crowd_one_core_each(models_worker):
    """On an idle CPU a request gets a session with every core's threads; under load the
    one-lane-per-core layout serves, shared by all models without running more inferences
    than cores."""
    name = "ipcai_worker_idle_runs_total"
    before = metric(models_worker.get("/metrics").text, name, model="yolox_nano")
    for _ in range(3):  # one at a time: nothing else runs
        models_worker.invoke_raw(seed_image("persons"), attributes="model=yolox_nano")
    lone = metric(models_worker.get("/metrics").text, name, model="yolox_nano") - before
    assert lone == 3
    lines = [json.loads(line) for line in models_worker.log_path.read_text().splitlines()]
    served = [line for line in lines if line.get("msg") == "request" and line["status"] == 200]
    assert served[-1]["cores"] == available_cpus()

    image = seed_image("persons")
    crowd_before = metric(models_worker.get("/metrics").text, name)
    order = [MODELS[i % 2] for i in range(40)]
    with ThreadPoolExecutor(20) as pool:
        responses = list(
            pool.map(lambda m: models_worker.invoke_raw(image, attributes=f"model={m}"), order)
        )
    assert [r.json()["model"] for r in responses] == order
    crowd_idle_runs = metric(models_worker.get("/metrics").text, name) - crowd_before
    assert crowd_idle_runs < len(order)  # queued requests ran on one core each
