"""The face stage (YuNet-n) and `POST /regions`: where faces and plates are, for redaction."""

from __future__ import annotations

import json

import cv2
import pytest

from gpu_worker.stages.faces import FaceFinder
from harness.processes import model_dir, shared_dir

PERSONS = shared_dir() / "images" / "persons.jpg"
PLATES = shared_dir() / "eval" / "plates" / "us"
# The four faces of persons.jpg (heads checked by eye on a drawn copy), x1, y1, x2, y2.
PERSONS_FACES = [(275, 198, 302, 234), (367, 173, 391, 204), (584, 199, 609, 230),
                 (539, 226, 557, 248)]  # fmt: skip


def overlaps(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def test_yunet_finds_the_four_faces_of_persons_jpg():
    finder = FaceFinder(model_dir() / "yunet_n_dynamic.onnx")
    faces = finder.find(cv2.imread(str(PERSONS)), min_score=0.5)
    assert len(faces) == 4
    for expected in PERSONS_FACES:
        assert any(overlaps(face.box, expected) for face in faces), expected


def test_regions_answers_faces_and_plate_boxes(worker):
    faces = worker.http.post(
        f"{worker.base_url}/regions?kinds=faces", data=PERSONS.read_bytes(), timeout=60
    )
    assert faces.status_code == 200, faces.text
    body = faces.json()
    assert (body["width"], body["height"]) == (819, 546)
    assert "plates" not in body
    found = [f["box"] for f in body["faces"] if f["score"] >= 0.5]
    assert all(any(overlaps(box, e) for box in found) for e in PERSONS_FACES)

    truth = json.loads((PLATES / "plates.json").read_text())[0]
    x, y, w, h = truth["box"]
    plates = worker.http.post(
        f"{worker.base_url}/regions?kinds=plates",
        data=(PLATES / "images" / truth["image"]).read_bytes(),
        timeout=60,
    )
    assert plates.status_code == 200, plates.text
    assert any(overlaps(p["box"], (x, y, x + w, y + h)) for p in plates.json()["plates"])


@pytest.mark.parametrize(
    ("query", "body", "status", "code"),
    [
        ("?kinds=eyes", PERSONS.read_bytes(), 400, "unknown_region_kind"),
        ("", b"not an image", 400, None),
    ],
)
def test_regions_refuses_bad_input_clearly(worker, query, body, status, code):
    answer = worker.http.post(f"{worker.base_url}/regions{query}", data=body, timeout=30)
    assert answer.status_code == status
    assert "error" in answer.json()
    if code:
        assert answer.json()["error"]["code"] == code
