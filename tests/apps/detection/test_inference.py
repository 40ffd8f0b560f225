"""Inference clients: HTTP to the real worker, and SageMaker through botocore's Stubber."""

import io
import json

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from apps.detection.inference import (
    HttpInferenceClient,
    InferenceError,
    SageMakerInferenceClient,
    custom_attributes,
)
from harness.images import seed_image
from harness.scripted_http import Reply, scripted_server


def http_client(url: str, read_timeout: float = 10.0) -> HttpInferenceClient:
    return HttpInferenceClient(url, connect_timeout=1.0, read_timeout=read_timeout, pool_size=4)


def test_raw_bytes_and_custom_attributes_reach_the_real_worker(worker_url):
    client = http_client(worker_url)
    pets = client.detect(seed_image("pets"), "image/jpeg", "pets-detection", 0.3)
    assert pets["class_names"] == [["dog"]] * 3
    persons = client.detect(seed_image("persons"), "image/jpeg", "persons-detection", 0.85)
    assert 0 < len(persons["bbox_scores"]) < 5


def test_keep_alive_connections_are_reused(worker_url):
    client = http_client(worker_url)
    for _ in range(3):
        client.detect(seed_image("persons"), "image/jpeg", "persons-detection", 0.3)
    assert client.pool.num_connections == 1


def test_the_request_is_the_raw_image_with_options_in_the_sagemaker_header():
    answer = {
        "width": 1,
        "height": 1,
        "channels": 3,
        "bbox_coords": [],
        "bbox_scores": [],
        "class_names": [],
    }
    with scripted_server(Reply(200, answer)) as worker:
        http_client(worker.url).detect(b"\xff\xd8\xffjpeg", "image/jpeg", "pets-detection", 0.45)
        (received,) = worker.received
    assert received.path == "/invocations"
    assert received.body == b"\xff\xd8\xffjpeg"  # no base64 round trip
    assert received.headers["content-type"] == "image/jpeg"
    assert received.headers["x-amzn-sagemaker-custom-attributes"] == (
        "application_type=pets-detection,min_confidence=0.45"
    )


def test_a_busy_workers_503_goes_back_at_once_with_its_retry_after():
    """No retry storm: an overloaded worker is asked once, and the client learns when to retry."""
    busy = {"error": {"code": "overloaded", "message": "queue full"}}
    with scripted_server(Reply(503, busy, headers={"Retry-After": "3"})) as worker:
        with pytest.raises(InferenceError) as raised:
            http_client(worker.url).detect(b"x", "image/jpeg", "persons-detection", 0.3)
        assert len(worker.received) == 1
    assert (raised.value.status, raised.value.retry_after) == (503, 3)


def test_worker_client_errors_pass_through_with_their_code():
    error = {"error": {"code": "corrupt_image", "message": "the JPEG header cannot be read"}}
    with scripted_server(Reply(400, error)) as worker:
        with pytest.raises(InferenceError) as raised:
            http_client(worker.url).detect(b"x", "image/jpeg", "persons-detection", 0.3)
        assert len(worker.received) == 1  # a 4xx is not retried
    assert (raised.value.status, raised.value.code) == (400, "corrupt_image")


def test_the_real_workers_own_400_reaches_the_caller(worker_url):
    truncated = seed_image("persons")[:200]
    with pytest.raises(InferenceError) as raised:
        http_client(worker_url).detect(truncated, "image/jpeg", "persons-detection", 0.3)
    assert raised.value.status == 400


# SageMaker's managed runtime cannot run here (it is an AWS service, not a container we can
# start): botocore's Stubber checks our invoke_endpoint call against the real API model and
# returns canned answers, which is as close as this machine can get.


def sagemaker_answer(body: dict) -> dict:
    raw = json.dumps(body).encode()
    return {"Body": StreamingBody(io.BytesIO(raw), len(raw)), "ContentType": "application/json"}


@pytest.fixture
def sagemaker():
    import boto3

    runtime = boto3.client(
        "sagemaker-runtime",
        region_name="eu-west-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with Stubber(runtime) as stubber:
        yield SageMakerInferenceClient("ipcai-endpoint", client=runtime), stubber


def expected_call(min_confidence: str = "0.3") -> dict:
    return {
        "EndpointName": "ipcai-endpoint",
        "Body": b"\xff\xd8\xffjpeg",
        "ContentType": "image/jpeg",
        "Accept": "application/json",
        "CustomAttributes": f"application_type=persons-detection,min_confidence={min_confidence}",
    }


def test_sagemaker_invoke_endpoint_carries_the_same_body_and_attributes(sagemaker):
    client, stubber = sagemaker
    answer = {
        "width": 2,
        "height": 2,
        "channels": 3,
        "bbox_coords": [[0, 0, 1, 1]],
        "bbox_scores": [[0.9]],
        "class_names": [["person"]],
    }
    stubber.add_response("invoke_endpoint", sagemaker_answer(answer), expected_call("0.45"))
    assert client.detect(b"\xff\xd8\xffjpeg", "image/jpeg", "persons-detection", 0.45) == answer
    stubber.assert_no_pending_responses()


def test_sagemaker_model_errors_keep_the_containers_status(sagemaker):
    client, stubber = sagemaker
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        http_status_code=424,
        modeled_fields={
            "OriginalStatusCode": 413,
            "OriginalMessage": '{"error": {"code": "image_too_large", "message": "too big"}}',
        },
        expected_params=expected_call(),
    )
    with pytest.raises(InferenceError) as raised:
        client.detect(b"\xff\xd8\xffjpeg", "image/jpeg", "persons-detection", 0.3)
    assert (raised.value.status, raised.value.code) == (413, "image_too_large")


def test_sagemaker_throttling_is_passed_on_at_once_as_503(sagemaker):
    client, stubber = sagemaker
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ThrottlingException",
        http_status_code=400,
        expected_params=expected_call(),
    )
    with pytest.raises(InferenceError) as raised:
        client.detect(b"\xff\xd8\xffjpeg", "image/jpeg", "persons-detection", 0.3)
    assert raised.value.status == 503 and raised.value.retry_after
    stubber.assert_no_pending_responses()


def test_custom_attributes_format():
    assert (
        custom_attributes("pets-detection", 0.5)
        == "application_type=pets-detection,min_confidence=0.5"
    )


def test_a_dropped_connection_is_retried_once(worker_url):
    """The first connection is closed without an answer (a worker restarting, or a keep-alive
    connection it timed out): the client reconnects once and gets the real worker's answer."""
    import socket
    import threading
    from urllib.parse import urlsplit

    target = urlsplit(worker_url)
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve() -> None:
        first, _ = listener.accept()
        accepted.append(first)
        first.close()  # drop the first connection
        second, _ = listener.accept()
        accepted.append(second)
        upstream = socket.create_connection((target.hostname, target.port))
        for a, b in [(second, upstream), (upstream, second)]:
            threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    client = http_client(f"http://127.0.0.1:{listener.getsockname()[1]}")
    result = client.detect(seed_image("pets"), "image/jpeg", "pets-detection", 0.3)
    assert result["class_names"] == [["dog"]] * 3
    assert len(accepted) == 2
    listener.close()


def _pipe(source, sink) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
