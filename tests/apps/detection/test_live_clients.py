"""Camera software's exact requests against the portal as deployed (gunicorn, the real worker),
sent with `requests`, the library Frigate and the DeepStack Python SDK use themselves.

- Frigate's deepstack detector (frigate/detectors/plugins/deepstack.py): `data={"api_key"}`,
  `files={"image": <JPEG bytes of a 320x320 region>}`, no min_confidence; it reads predictions
  in order, stops at the first below 0.4 or with a label not in its labelmap (truck counts as
  car), keeps 20 at most and divides boxes by the size it sent.
- The DeepStack Python SDK (deepstack-python's core.py): `files={"image": bytes}` and
  `data={"api_key": ..., **options}` to `/v1/vision/custom/<model>`.
- A URL with the key in its path, for software that takes nothing else; never in our logs.
"""

from __future__ import annotations

import pytest
import requests

from harness.images import region_jpeg
from harness.portal import Portal, running_portal

# The entries of Frigate's labelmap.txt that our services' labels fall into.
FRIGATE_LABELS = {
    0: "person",
    1: "bicycle",
    2: "car",
    3: "motorcycle",
    5: "bus",
    6: "train",
    15: "cat",
    16: "dog",
}


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url) -> Portal:
    # The access log on, as an operator debugging a camera would turn it on.
    with running_portal(
        tmp_path_factory.mktemp("clients"), worker_url, GUNICORN_ACCESS_LOG="-"
    ) as p:
        yield p


@pytest.fixture(scope="module")
def key(portal) -> str:
    return portal.create_tenant(
        "clients", ["persons-detection", "pets-detection", "vehicles-detection"]
    )


def frigate_label_index(label: str) -> int:
    if label.lower() == "truck":
        label = "car"
    for index, value in FRIGATE_LABELS.items():
        if value == label.lower():
            return index
    return -1


def frigate_reads(body: dict, width: int, height: int) -> list[list[float]]:
    """Frigate's reading rule, row by row: [label index, score, y_min, x_min, y_max, x_max]."""
    rows: list[list[float]] = []
    for detection in body.get("predictions") or []:
        if detection["confidence"] < 0.4:
            break
        label = frigate_label_index(detection["label"])
        if label < 0 or len(rows) == 20:
            break
        rows.append(
            [
                label,
                float(detection["confidence"]),
                detection["y_min"] / height,
                detection["x_min"] / width,
                detection["y_max"] / height,
                detection["x_max"] / width,
            ]
        )
    return rows


@pytest.mark.parametrize(("frame", "expected"), [("persons", "person"), ("pets", "dog")])
def test_frigates_request_and_reading_rule(portal, key, frame, expected):
    image = region_jpeg(frame)
    response = requests.post(
        f"{portal.base_url}/v1/vision/detection",
        data={"api_key": key},
        files={"image": image},
        timeout=10,
    )
    assert response.status_code == 200
    body = response.json()
    predictions = body["predictions"]
    confidences = [p["confidence"] for p in predictions]
    assert confidences == sorted(confidences, reverse=True)  # Frigate stops at the first low one
    assert all(p["label"] == p["label"].lower() for p in predictions)
    rows = frigate_reads(body, 320, 320)
    # Nothing cut short by an unknown label: Frigate keeps every prediction of 0.4 or more.
    assert len(rows) == min(20, sum(c >= 0.4 for c in confidences))
    assert FRIGATE_LABELS[int(rows[0][0])] == expected
    assert all(0.0 <= value <= 1.0 for row in rows for value in row[2:])
    assert all(row[2] < row[4] and row[3] < row[5] for row in rows)


def test_deepstack_sdk_custom_model_call(portal, key):
    image = region_jpeg("pets", size=416)
    response = requests.post(
        f"{portal.base_url}/v1/vision/custom/ipcam-animal",
        files={"image": image},
        data={"api_key": key, "min_confidence": 0.45},
        timeout=10,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["command"] == "custom"
    assert {p["label"] for p in body["predictions"]} == {"dog"}
    assert all(p["confidence"] >= 0.45 for p in body["predictions"])


def test_a_key_in_the_url_answers_and_stays_out_of_the_access_log(portal, key):
    response = requests.post(
        f"{portal.base_url}/k/{key}/v1/vision/detection",
        files={"image": ("image.jpg", region_jpeg("persons"), "image/jpeg")},
        timeout=10,
    )
    assert response.status_code == 200
    assert "person" in {p["label"] for p in response.json()["predictions"]}
    portal.server.wait_until(lambda: "/k/[key]/v1/vision/detection" in portal.log(), timeout=10)
    assert key not in portal.log()
    assert key.split("_")[2] not in portal.log()
