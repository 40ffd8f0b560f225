"""The license-plates service on the portal's APIs, against the session's real worker: the
native and seed answers carry each vehicle's plate, CodeProject.AI's ALPR route answers in its
module's shape, DeepStack is unchanged, and a tenant without the service is refused."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.alerts.models import CameraEvent
from apps.cameras.services import create_camera
from apps.tenants.services import enable_service
from harness.images import huge_png
from harness.plate_clip import shifted_frames
from harness.plates_eval import load_truth
from tests.apps.detection.conftest import seed_body

# A car the reader reads right with the test worker's model (yolox_nano): CCLVN3.
TRUTH = load_truth(3)[2]
CODEPROJECT_FIELDS = {
    "success",
    "predictions",
    "message",
    "count",
    "inferenceMs",
    "processMs",
    "analysisRoundTripMs",
    "moduleId",
    "moduleName",
    "command",
    "executionProvider",
    "canUseGPU",
    "code",
    "requestId",
    "timestampUTC",
}
PREDICTION_FIELDS = {"confidence", "label", "plate", "x_min", "y_min", "x_max", "y_max"}


@pytest.fixture
def plates_tenant(settings, tenant_a):
    # A deployment offers plates when its worker has the reader (docs/PLATES.md).
    settings.IPCAI_OFFERED_SERVICES = [*settings.IPCAI_OFFERED_SERVICES, "license-plates"]
    enable_service(tenant_a, "license-plates")
    return tenant_a


@pytest.fixture
def car_jpg() -> bytes:
    return TRUTH.image.read_bytes()


def overlaps(box, truth_box) -> bool:
    return min(box[2], truth_box[2]) > max(box[0], truth_box[0]) and min(
        box[3], truth_box[3]
    ) > max(box[1], truth_box[1])


def multipart(field: str, filename: str, image: bytes, boundary: str) -> bytes:
    """A multipart body as an HTTP client library writes it (CodeProject.AI's explorer and
    Blue Iris post the file as `upload`)."""
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_native_answer_gives_each_vehicle_its_plate(
    inference, plates_tenant, key_a, post_native, car_jpg
):
    response = post_native("license-plates", car_jpg, key_a.raw)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["application_type"] == "license-plates"
    cars = [d for d in body["detections"] if d["label"] == "car"]
    read = [d["plate"] for d in cars if d["plate"]]
    assert [p["text"] for p in read] == [TRUTH.text]
    assert overlaps(read[0]["box"], TRUTH.box) and 0 < read[0]["score"] <= 1


def test_seed_answer_keeps_its_shape_and_adds_plates(
    inference, plates_tenant, key_a, post_seed, car_jpg
):
    response = post_seed(seed_body(car_jpg, application_type="license-plates"), key_a.raw)
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["plates"]) == len(body["bbox_coords"]) == len(body["class_names"])
    assert TRUTH.text in [p["text"] for p in body["plates"] if p]


def test_an_image_without_vehicles_answers_empty_lists(
    inference, plates_tenant, key_a, post_native, client, pets_jpg
):
    native = post_native("license-plates", pets_jpg, key_a.raw).json()
    assert native["detections"] == [] and native["frame_plates"] == []
    alpr = client.post(
        "/v1/image/alpr",
        data=multipart("upload", "pets.jpg", pets_jpg, "b0undary"),
        content_type="multipart/form-data; boundary=b0undary",
        HTTP_X_API_KEY=key_a.raw,
    ).json()
    assert alpr["success"] is True
    assert alpr["predictions"] == [] and alpr["count"] == 0
    assert alpr["message"] == "No plates found"


@pytest.fixture
def close_up_jpg() -> bytes:
    """The plate of TRUTH with a plate's width and twice its height around it: a close-up of a
    plate and a bumper, in which the detector finds no vehicle."""
    import cv2

    image = cv2.imread(str(TRUTH.image))
    x1, y1, x2, y2 = TRUTH.box
    w, h = x2 - x1, y2 - y1
    crop = image[max(0, y1 - 2 * h) : y2 + 2 * h, max(0, x1 - w) : x2 + w]
    return cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()


def test_a_close_up_without_a_vehicle_answers_its_plate_apart_from_the_detections(
    inference, plates_tenant, key_a, post_native, post_seed, client, close_up_jpg
):
    native = post_native("license-plates", close_up_jpg, key_a.raw).json()
    assert not [d for d in native["detections"] if d["label"] in {"car", "truck", "bus"}]
    [plate] = native["frame_plates"]
    assert plate["text"] == TRUTH.text and 0 < plate["score"] <= 1
    x1, y1, x2, y2 = plate["box"]
    assert 0 <= x1 < x2 <= native["width"] and 0 <= y1 < y2 <= native["height"]
    seed = post_seed(seed_body(close_up_jpg, application_type="license-plates"), key_a.raw)
    assert [p["text"] for p in seed.json()["frame_plates"]] == [TRUTH.text]
    alpr = client.post(
        "/v1/image/alpr", {"upload": _upload(close_up_jpg)}, HTTP_X_API_KEY=key_a.raw
    ).json()
    assert [p["plate"] for p in alpr["predictions"]] == [TRUTH.text]
    assert alpr["message"] == f"Found Plate: {TRUTH.text}" and alpr["count"] == 1


def test_codeproject_alpr_request_gets_the_modules_answer_field_for_field(
    inference, plates_tenant, key_a, client, car_jpg
):
    boundary = "----BlueIrisFormBoundary7MA4YWxkTrZu0gW"
    response = client.post(
        f"/k/{key_a.raw}/v1/image/alpr",
        data=multipart("upload", "alpr.jpg", car_jpg, boundary),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == CODEPROJECT_FIELDS
    assert body["success"] is True and body["code"] == 200 and body["command"] == "alpr"
    [prediction] = body["predictions"]
    assert set(prediction) == PREDICTION_FIELDS
    assert prediction["plate"] == TRUTH.text
    assert prediction["label"] == f"Plate: {TRUTH.text}"
    assert body["message"] == f"Found Plate: {TRUTH.text}"
    assert body["count"] == 1
    assert all(isinstance(prediction[k], int) for k in ("x_min", "y_min", "x_max", "y_max"))
    box = [prediction[k] for k in ("x_min", "y_min", "x_max", "y_max")]
    assert overlaps(box, TRUTH.box)
    current = client.post(
        "/v1/vision/alpr", {"upload": _upload(car_jpg)}, HTTP_X_API_KEY=key_a.raw
    ).json()
    assert [p["plate"] for p in current["predictions"]] == [TRUTH.text]


def _upload(image: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("alpr.jpg", image, content_type="image/jpeg")


def test_a_tenant_without_the_service_is_refused(inference, key_b, post_native, client, car_jpg):
    assert post_native("license-plates", car_jpg, key_b.raw).status_code == 403
    alpr = client.post("/v1/image/alpr", {"upload": _upload(car_jpg)}, HTTP_X_API_KEY=key_b.raw)
    assert alpr.status_code == 403
    assert alpr.json()["success"] is False and alpr.json()["code"] == 403


def test_deepstack_detection_is_unchanged_with_plates_enabled(
    inference, plates_tenant, key_a, client, car_jpg
):
    enable_service(plates_tenant, "vehicles-detection")
    body = client.post(
        "/v1/vision/detection", {"image": _upload(car_jpg)}, HTTP_X_API_KEY=key_a.raw
    ).json()
    assert body["success"] is True
    assert "car" in {p["label"] for p in body["predictions"]}
    assert all(
        set(p) == {"label", "confidence", "x_min", "y_min", "x_max", "y_max"}
        for p in body["predictions"]
    )


def test_alpr_reads_plates_for_a_tenant_with_vehicles_detection_too(
    inference, plates_tenant, key_a, client, car_jpg
):
    """A parking lot's tenant has both: DeepStack's route then runs vehicles-detection alone
    (boxes only), and the ALPR route still reads plates (it answered 403 before)."""
    enable_service(plates_tenant, "vehicles-detection")
    alpr = client.post("/v1/image/alpr", {"upload": _upload(car_jpg)}, HTTP_X_API_KEY=key_a.raw)
    assert alpr.status_code == 200, alpr.content
    assert [p["plate"] for p in alpr.json()["predictions"]] == [TRUTH.text]


@pytest.fixture(scope="module")
def png_20000(tmp_path_factory) -> bytes:
    return huge_png(tmp_path_factory.mktemp("png") / "huge.png").read_bytes()


def test_the_pixel_bound_holds_on_the_plate_routes(
    inference, plates_tenant, key_a, post_native, client, png_20000
):
    """A 20000x20000 PNG (a few hundred bytes of header) is refused from its header, before
    the reader decodes the frame whole: 413 on the native route and on CodeProject.AI's."""
    native = post_native("license-plates", png_20000, key_a.raw)
    assert native.status_code == 413
    assert "megapixels" in native.json()["error"]["message"]
    alpr = client.post(
        "/v1/image/alpr",
        {"upload": SimpleUploadedFile("huge.png", png_20000, content_type="image/png")},
        HTTP_X_API_KEY=key_a.raw,
    )
    assert alpr.status_code == 413
    assert alpr.json()["success"] is False and "megapixels" in alpr.json()["error"]


def test_the_byte_bound_holds_on_the_plate_routes(
    inference, plates_tenant, key_a, post_native, client, car_jpg, settings
):
    settings.IPCAI_MAX_IMAGE_BYTES = 10_000
    assert len(car_jpg) > 10_000
    native = post_native("license-plates", car_jpg, key_a.raw)
    assert native.status_code == 413 and native.json()["error"]["code"]
    alpr = client.post("/v1/image/alpr", {"upload": _upload(car_jpg)}, HTTP_X_API_KEY=key_a.raw)
    assert alpr.status_code == 413 and alpr.json()["success"] is False


def test_a_cameras_frames_go_unread_once_its_plate_is_settled_but_alpr_reads_each(
    inference, plates_tenant, key_a, post_native, client
):
    """A car at a camera's gate: its frames are read until the event's plate was read alike
    three times, then sent without reading (`plate` null, the event keeps the plate). Blue
    Iris's ALPR calls on the same camera are read every time: it shows each frame's plate."""
    camera = create_camera(plates_tenant, {"name": "gate"})
    frames = shifted_frames()
    t0 = time.time() - 60

    def car_plates(index: int) -> list:
        query = f"?camera={camera.public_id}&timestamp={t0 + 0.2 * index:.3f}"
        body = post_native("license-plates", frames[index], key_a.raw, query=query).json()
        assert body["application_type"] == "license-plates"
        return [
            d["plate"] and d["plate"]["text"] for d in body["detections"] if d["label"] == "car"
        ]

    seen = [car_plates(i) for i in range(10)]
    assert [TRUTH.text] in seen  # read while the event's plate settled
    assert seen[-1] == [None]  # then not read
    [event] = CameraEvent.objects.filter(camera=camera)
    assert event.plate_text == TRUTH.text
    assert sum(count for count, _ in event.plate_reads.values()) == 3
    alpr = client.post(
        f"/v1/image/alpr?camera={camera.public_id}&timestamp={t0 + 2.0:.3f}",
        {"upload": _upload(frames[10])},
        HTTP_X_API_KEY=key_a.raw,
    ).json()
    assert [p["plate"] for p in alpr["predictions"]] == [TRUTH.text]
    assert car_plates(11) == [None]
