"""Running the worker as operators do: readiness, metrics, logs, load, overload, shutdown."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from starlette.testclient import TestClient

from gpu_worker.config import WorkerSettings
from gpu_worker.server import create_app
from harness.images import seed_image
from harness.polling import eventually
from harness.processes import http_ok, model_dir, python_module
from harness.prometheus import metric
from harness.worker import running_worker


def test_ping_is_503_until_the_model_is_loaded():
    """Before the load finishes (here: the app's lifespan has not run) /ping says 503."""
    app = create_app(WorkerSettings(model_dir=model_dir()))
    client = TestClient(app)  # no `with`: startup (the model load) never runs
    response = client.get("/ping")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_ready"
    invocation = client.post(
        "/invocations", content=seed_image("pets"), headers={"Content-Type": "image/jpeg"}
    )
    assert invocation.status_code == 503


def test_ping_is_200_with_the_model_once_loaded(worker):
    response = worker.get("/ping")
    assert response.status_code == 200
    assert response.json()["model"] == "yolox_nano"


def test_metrics_count_requests_by_type_and_status_and_split_latency(worker):
    before = worker.get("/metrics").text
    worker.invoke_raw(seed_image("pets"), attributes="application_type=pets-detection")
    worker.invoke_raw(b"not an image", attributes="application_type=vehicles-detection")
    worker.invoke_raw(b"{", content_type="application/json")  # type never read: "unknown"
    after = worker.get("/metrics").text

    def added(**labels: str) -> float:
        name = "ipcai_worker_requests_total"
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert added(application_type="pets-detection", status="200") == 1
    assert added(application_type="vehicles-detection", status="400") == 1
    assert added(application_type="unknown", status="400") == 1
    for stage in ("decode", "queue", "infer", "postprocess"):
        assert metric(after, "ipcai_worker_stage_seconds_count", stage=stage) >= 1
    assert metric(after, "ipcai_worker_batch_size_count") >= 1
    assert "ipcai_worker_queue_depth" in after
    assert metric(after, "ipcai_worker_ready") == 1


def test_metrics_give_cpu_per_request_outside_inference(worker):
    """Process CPU, the model's inference CPU and requests answered are exposed, and the
    derived figure is what is left per request: more than nothing, less than the whole."""
    for _ in range(5):
        assert worker.invoke_raw(seed_image("persons")).status_code == 200
    text = worker.get("/metrics").text
    process_cpu = metric(text, "process_cpu_seconds_total")
    inference_cpu = metric(text, "ipcai_worker_inference_cpu_seconds_total", model="yolox_nano")
    requests_answered = metric(text, "ipcai_worker_requests_total")
    outside = metric(text, "ipcai_worker_cpu_seconds_per_request_outside_inference")
    assert requests_answered >= 5
    assert 0 < inference_cpu < process_cpu
    # Decoding and preprocessing a 819x546 JPEG alone takes well over 0.1 ms; a request's
    # whole CPU (inference included) is far below the process's total since it started.
    assert 0.0001 < outside < process_cpu / requests_answered


def _logged_requests(worker) -> list[dict]:
    lines = [json.loads(line) for line in worker.log_path.read_text().splitlines() if line]
    return [line for line in lines if line["msg"] == "request"]


def test_each_request_writes_one_json_log_line(worker):
    before = len(_logged_requests(worker))
    response = worker.invoke_raw(seed_image("pets"), attributes="application_type=pets-detection")
    assert response.status_code == 200
    # The worker writes the line just after it sends the answer, so it may trail the reply.
    logged = eventually(
        lambda: _logged_requests(worker)[before:], timeout=10, what="the request's log line"
    )
    assert len(logged) == 1
    last = logged[0]
    assert last["status"] == 200
    assert last["application_type"] == "pets-detection"
    assert last["objects"] == 3
    assert set(last["timings_ms"]) >= {"decode", "queue", "infer", "postprocess"}


def test_concurrent_requests_all_succeed_with_identical_results(worker):
    image = seed_image("persons")
    expected = worker.invoke_raw(image).json()["bbox_coords"]

    def call(_):
        with requests.Session() as session:
            return session.post(
                f"{worker.base_url}/invocations",
                data=image,
                headers={"Content-Type": "image/jpeg"},
                timeout=120,
            )

    with ThreadPoolExecutor(40) as pool:
        responses = list(pool.map(call, range(120)))
    assert [r.status_code for r in responses] == [200] * 120
    assert all(r.json()["bbox_coords"] == expected for r in responses)


def test_dynamic_batching_coalesces_concurrent_requests(worker_logs):
    """DEIMv2 has a dynamic batch: with one lane, concurrent requests share inference calls,
    and each still gets exactly its own image's answer."""
    images = {name: seed_image(name) for name in ("persons", "pets", "vehicles")}
    with running_worker(
        worker_logs,
        model="deimv2_femto",
        IPCAI_LANES="1",
        IPCAI_MAX_BATCH="8",
        IPCAI_MAX_WAIT_MS="20",
    ) as (_, url):
        singles = {
            name: requests.post(
                f"{url}/invocations", data=data, headers={"Content-Type": "image/jpeg"}, timeout=60
            ).json()
            for name, data in images.items()
        }
        # Alone on an idle device the lane decodes the image itself: bad input is still a 400.
        corrupt = requests.post(
            f"{url}/invocations", data=b"not an image", headers={"Content-Type": "image/jpeg"}
        )
        assert corrupt.status_code == 400 and corrupt.json()["error"]["code"] == "not_an_image"
        assert all(single["timings_ms"]["decode"] > 0 for single in singles.values())
        order = [name for _ in range(12) for name in images]
        with ThreadPoolExecutor(36) as pool:
            results = list(
                pool.map(
                    lambda name: requests.post(
                        f"{url}/invocations",
                        data=images[name],
                        headers={"Content-Type": "image/jpeg"},
                        timeout=120,
                    ),
                    order,
                )
            )
        metrics = requests.get(f"{url}/metrics", timeout=30).text
    assert all(r.status_code == 200 for r in results)
    for name, response in zip(order, results, strict=True):
        assert response.json()["class_names"] == singles[name]["class_names"]
    calls = metric(metrics, "ipcai_worker_batch_size_count")
    images_inferred = metric(metrics, "ipcai_worker_batch_size_sum")
    assert images_inferred == len(order) + 3 + 0  # every image inferred exactly once
    assert calls < images_inferred  # ...in fewer calls: batches formed


def test_full_queue_answers_503_with_retry_after(worker_logs):
    image = seed_image("persons")
    with (
        running_worker(worker_logs, IPCAI_LANES="1", IPCAI_MAX_QUEUE="1") as (_, url),
        ThreadPoolExecutor(48) as pool,
    ):
        responses = list(
            pool.map(
                lambda _: requests.post(
                    f"{url}/invocations",
                    data=image,
                    headers={"Content-Type": "image/jpeg"},
                    timeout=120,
                ),
                range(48),
            )
        )
    statuses = {r.status_code for r in responses}
    assert statuses <= {200, 503}
    refused = [r for r in responses if r.status_code == 503]
    assert refused, "48 concurrent requests against a queue of 1 must see some refusals"
    assert all(r.headers["Retry-After"] == "1" for r in refused)
    assert all(r.json()["error"]["code"] == "overloaded" for r in refused)
    assert any(r.status_code == 200 for r in responses)


def test_sigterm_lets_requests_in_flight_finish(worker_logs):
    image = seed_image("persons")
    with running_worker(worker_logs, IPCAI_LANES="1") as (server, url):
        results: list = []
        started = threading.Event()

        def call(_):
            started.set()
            return requests.post(
                f"{url}/invocations",
                data=image,
                headers={"Content-Type": "image/jpeg"},
                timeout=120,
            )

        pool = ThreadPoolExecutor(24)
        futures = [pool.submit(call, i) for i in range(24)]
        started.wait(10)
        # Wait until the worker holds work in its queue, then ask it to stop.
        server.wait_until(
            lambda: (
                metric(requests.get(f"{url}/metrics", timeout=10).text, "ipcai_worker_queue_depth")
                > 0
            ),
            timeout=30,
        )
        exit_code = server.stop(timeout=60)
        results = [f.result() for f in futures]
        pool.shutdown()
    # uvicorn re-raises the SIGTERM it handled once shutdown is complete; never SIGKILL.
    assert exit_code in (0, -signal.SIGTERM)
    assert [r.status_code for r in results] == [200] * 24
    assert not http_ok(f"{url}/ping")


def run_worker_command(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m gpu_worker` with only these settings, as a container would start it."""
    return subprocess.run(
        python_module("gpu_worker"),
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_model_file_fails_fast_naming_setting_and_command(tmp_path):
    result = run_worker_command(
        {
            "IPCAI_MODEL_DIR": str(tmp_path),
            "IPCAI_MODEL": "yolox_nano",
        }
    )
    assert result.returncode == 2
    assert "IPCAI_MODEL_DIR" in result.stderr
    assert "python -m gpu_worker fetch yolox_nano" in result.stderr


def test_model_file_with_wrong_checksum_is_refused(tmp_path):
    shutil.copy(model_dir() / "picodet_s_416_coco.onnx", tmp_path / "yolox_nano.onnx")
    result = run_worker_command(
        {
            "IPCAI_MODEL_DIR": str(tmp_path),
            "IPCAI_MODEL": "yolox_nano",
        }
    )
    assert result.returncode == 2
    assert "sha256" in result.stderr and "fetch yolox_nano" in result.stderr


def test_bad_setting_is_reported_by_name(tmp_path):
    result = run_worker_command(
        {
            "IPCAI_MODEL_DIR": str(model_dir()),
            "IPCAI_MAX_BATCH": "many",
        }
    )
    assert result.returncode == 2
    assert "IPCAI_MAX_BATCH" in result.stderr


def test_an_unknown_model_in_the_list_fails_fast_naming_it():
    result = run_worker_command(
        {"IPCAI_MODEL_DIR": str(model_dir()), "IPCAI_MODELS": "yolox_nano,yolov9_e"}
    )
    assert result.returncode == 2
    assert "unknown model 'yolov9_e' (IPCAI_MODELS)" in result.stderr


def test_build_engines_without_a_gpu_says_what_it_needs():
    result = subprocess.run(
        [*python_module("gpu_worker"), "build-engines"],
        env={"PATH": "/usr/bin:/bin", "IPCAI_MODEL_DIR": str(model_dir())},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "needs TensorRT and an NVIDIA GPU" in result.stderr
