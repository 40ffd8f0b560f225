"""Dataset export, import and evaluation end to end, every part real and in its own process.

Frames go through the real portal (gunicorn) to the real worker, are archived by the real Celery
worker into a folder; the export is started over the API, built by Celery, downloaded, and
each format is read by a real consumer: pycocotools for COCO, a YOLO label parser checked back
to pixels, Label Studio's documented task shape (https://labelstud.io/guide/predictions). The
COCO file then comes back, a few boxes edited as a reviewer would, as an evaluation set, and
`manage.py evaluate_model` scores the shared models on it.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import pytest
import requests
import yaml
from PIL import Image
from pycocotools.coco import COCO

from harness.images import encode, seed_pixels
from harness.polling import eventually
from harness.portal import Portal
from harness.worker import running_worker
from tests.support.archiving import archiving_portal, wait_until_archived

pytestmark = pytest.mark.slow

SERVICES = ("persons-detection", "pets-detection")
MODELS = "yolox_nano,deimv2_femto"  # the worker serves both; the first is its default


@dataclass
class Stack:
    portal: Portal
    key: str
    answers: dict[str, dict]  # portal request id -> the native answer the camera got
    events: list[dict]
    logs: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.key}

    def api(self, path: str) -> str:
        return f"{self.portal.base_url}/api/v1/{path}"

    def export(self, **body) -> tuple[dict, zipfile.ZipFile]:
        """Start an export over the API, wait for Celery to build it, download the zip."""
        started = requests.post(self.api("exports"), json=body, headers=self.headers, timeout=30)
        assert started.status_code == 202, started.text
        url = started.json()["url"]

        def finished():
            job = requests.get(url, headers=self.headers, timeout=30).json()
            return job if job["status"] in {"done", "failed"} else None

        job = eventually(finished, 120, "the export job")
        assert job["status"] == "done", job
        assert job["progress"] == 1.0
        download = requests.get(job["download_url"], headers=self.headers, timeout=60)
        assert download.status_code == 200
        assert download.headers["Content-Type"] == "application/zip"
        path = self.logs / f"{job['id']}.zip"
        path.write_bytes(download.content)
        return job, zipfile.ZipFile(path)


def frames() -> list[tuple[str, bytes]]:
    """Six distinct camera frames: the seed's three photos and their mirror images."""
    out = []
    for name, service in (
        ("persons", "persons-detection"),
        ("pets", "pets-detection"),
        ("vehicles", "persons-detection"),
    ):
        pixels = seed_pixels(name)
        out += [(service, encode(pixels)), (service, encode(cv2.flip(pixels, 1)))]
    return out


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    logs = tmp_path_factory.mktemp("export")
    with (
        running_worker(logs, IPCAI_MODELS=MODELS) as (_, worker_url),
        archiving_portal(logs, worker_url) as portal,
    ):
        key = portal.create_tenant("acme", SERVICES)
        portal.manage("archive_requests", "acme", "--on")
        answers = {}
        for service, image in frames():
            response = requests.post(
                f"{portal.base_url}/api/v1/detect/{service}",
                data=image,
                headers={"x-api-key": key, "Content-Type": "image/jpeg"},
                timeout=60,
            )
            assert response.status_code == 200, response.text
            answers[response.json()["request_id"]] = response.json()
        events = wait_until_archived(portal, key, len(answers))
        yield Stack(portal, key, answers, events, logs)


def answer_of(stack: Stack, event_id: str) -> dict:
    [event] = [e for e in stack.events if e["id"] == event_id]
    return stack.answers[event["portal_request_id"]]


def image_size_in(archive: zipfile.ZipFile, name: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(archive.read(name))) as image:
        return image.size


def test_coco_export_loads_in_pycocotools_with_the_zips_images_and_scores(stack, tmp_path):
    job, archive = stack.export(format="coco")
    (tmp_path / "annotations.json").write_bytes(archive.read("annotations.json"))
    coco = COCO(str(tmp_path / "annotations.json"))
    images = coco.loadImgs(coco.getImgIds())
    assert job["images"] == len(images) == len(stack.answers)
    in_zip = {name for name in archive.namelist() if name.startswith("images/")}
    assert {f"images/{image['file_name']}" for image in images} == in_zip
    categories = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert set(categories.values()) == {"person", "cat", "dog"}
    for image in images:
        assert (image["width"], image["height"]) == image_size_in(
            archive, f"images/{image['file_name']}"
        )
        answer = answer_of(stack, image["event_id"])
        boxes = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        expected = [d for d in answer["detections"] if d["label"] in categories.values()]
        assert len(boxes) == len(expected)
        for annotation, detection in zip(boxes, expected, strict=True):
            assert categories[annotation["category_id"]] == detection["label"]
            assert annotation["score"] == pytest.approx(detection["score"], abs=1e-4)
            x1, y1, x2, y2 = detection["box"]
            assert annotation["bbox"] == pytest.approx([x1, y1, x2 - x1, y2 - y1], abs=0.01)
    assert job["annotations"] == len(coco.getAnnIds()) > 0


def test_yolo_labels_parse_and_round_trip_to_pixels_within_one_pixel(stack):
    _, archive = stack.export(format="yolo")
    data = yaml.safe_load(archive.read("data.yaml"))
    names = data["names"]
    assert data["nc"] == len(names) and set(names.values()) == {"person", "cat", "dog"}
    assert data["train"] == "images"
    labels = [n for n in archive.namelist() if n.startswith("labels/")]
    assert len(labels) == len(stack.answers)
    boxes = 0
    for label in labels:
        stem = label.removeprefix("labels/").removesuffix(".txt")
        width, height = image_size_in(archive, f"images/{stem}.jpg")
        expected = [d for d in answer_of(stack, stem)["detections"] if d["label"] in names.values()]
        lines = archive.read(label).decode().splitlines()
        assert len(lines) == len(expected)
        for line, detection in zip(lines, expected, strict=True):
            class_id, cx, cy, w, h = line.split()
            assert names[int(class_id)] == detection["label"]
            cx, cy, w, h = (float(v) for v in (cx, cy, w, h))
            assert all(0.0 <= v <= 1.0 for v in (cx, cy, w, h))
            pixels = [
                (cx - w / 2) * width,
                (cy - h / 2) * height,
                (cx + w / 2) * width,
                (cy + h / 2) * height,
            ]
            assert pixels == pytest.approx(detection["box"], abs=1.0)
            boxes += 1
    assert boxes > 0


def test_label_studio_tasks_have_the_documented_prediction_shape(stack):
    _, archive = stack.export(format="labelstudio", service="pets-detection")
    config = ET.fromstring(archive.read("label_config.xml"))
    [image_tag] = config.iter("Image")
    [rectangles] = config.iter("RectangleLabels")
    assert rectangles.get("toName") == image_tag.get("name")
    labels = {label.get("value") for label in rectangles.iter("Label")}
    assert labels == {"cat", "dog"}
    tasks = json.loads(archive.read("tasks.json"))
    assert len(tasks) == 2  # the pets frame and its mirror image
    for task in tasks:
        assert task["data"]["image"] in archive.namelist()
        width, height = image_size_in(archive, task["data"]["image"])
        [prediction] = task["predictions"]
        assert prediction["model_version"] == "yolox_nano"
        detections = answer_of(stack, task["data"]["event_id"])["detections"]
        assert len(prediction["result"]) == len(detections) > 0
        for region, detection in zip(prediction["result"], detections, strict=True):
            assert region["type"] == "rectanglelabels"
            assert region["from_name"] == rectangles.get("name")
            assert region["to_name"] == image_tag.get("name")
            assert (region["original_width"], region["original_height"]) == (width, height)
            value = region["value"]
            assert value["rectanglelabels"] == [detection["label"]]
            assert all(0 <= value[k] <= 100 for k in ("x", "y", "width", "height"))
            x1, y1 = value["x"] * width / 100, value["y"] * height / 100
            x2, y2 = x1 + value["width"] * width / 100, y1 + value["height"] * height / 100
            assert [x1, y1, x2, y2] == pytest.approx(detection["box"], abs=1.0)
            assert region["score"] == pytest.approx(detection["score"], abs=1e-4)


def test_filters_select_service_classes_score_band_and_sample_size(stack):
    scores = sorted(
        d["score"]
        for a in stack.answers.values()
        if a["application_type"] == "persons-detection"
        for d in a["detections"]
    )
    low, high = scores[0], scores[len(scores) // 2]  # a band some frames miss
    in_band = [
        rid
        for rid, a in stack.answers.items()
        if a["application_type"] == "persons-detection"
        and any(low <= d["score"] <= high for d in a["detections"])
    ]
    job, archive = stack.export(
        format="coco", service="persons-detection", score_min=low, score_max=high
    )
    document = json.loads(archive.read("annotations.json"))
    assert job["images"] == len(in_band) == len(document["images"])
    for image in document["images"]:
        answer = answer_of(stack, image["event_id"])
        assert answer["application_type"] == "persons-detection"
        assert any(low <= d["score"] <= high for d in answer["detections"])
    job, archive = stack.export(format="yolo", classes=["dog"], sample_size=1, seed=7)
    assert job["images"] == 1
    [label] = [n for n in archive.namelist() if n.startswith("labels/")]
    assert yaml.safe_load(archive.read("data.yaml"))["names"] == {0: "dog"}
    assert all(line.startswith("0 ") for line in archive.read(label).decode().splitlines())


def test_bad_export_requests_get_clear_errors(stack):
    for body, fragment in (
        ({"format": "voc"}, "format"),
        ({"format": "coco", "service": "pets-detection", "classes": ["person"]}, "person"),
        ({"format": "coco", "score_min": 0.8, "score_max": 0.2}, "score_min"),
    ):
        response = requests.post(stack.api("exports"), json=body, headers=stack.headers, timeout=30)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_export"
        assert fragment in response.json()["error"]["message"]


def reviewed(document: dict, moved: int) -> dict:
    """The COCO file as a reviewer returns it: `moved` boxes shifted by half their width."""
    document = json.loads(json.dumps(document))
    for annotation in document["annotations"][:moved]:
        annotation["bbox"][0] += annotation["bbox"][2] / 2
        annotation.pop("score")
    return document


def test_imported_reviewed_set_scores_models_and_edits_change_the_numbers(stack, tmp_path):
    _, archive = stack.export(format="coco")
    original = json.loads(archive.read("annotations.json"))
    zip_path = Path(archive.filename)
    runs = {}
    for name, moved in (("as-exported", 0), ("reviewed", 4)):
        annotations = tmp_path / f"{name}.json"
        annotations.write_text(json.dumps(reviewed(original, moved)))
        out = stack.portal.manage(
            "import_evaluation_set",
            str(zip_path),
            "--tenant",
            "acme",
            "--name",
            name,
            "--annotations",
            str(annotations),
        )
        assert f"{len(original['images'])} images" in out
        lines = stack.portal.manage(
            "evaluate_model", "--tenant", "acme", "--set", name, "--models", MODELS,
            "--format", "json",
        ).splitlines()  # fmt: skip
        runs[name] = {r["model"]: r for r in map(json.loads, lines)}
    for model in MODELS.split(","):
        exported = {s["application_type"]: s for s in runs["as-exported"][model]["services"]}
        edited = {s["application_type"]: s for s in runs["reviewed"][model]["services"]}
        assert set(exported) == set(SERVICES)
        assert runs["as-exported"][model]["cpu_ms_per_image"] > 0
        persons = exported["persons-detection"]
        assert 0 < persons["map50_95"] <= 1 and persons["ground_truth_boxes"] > 0
        assert 0 < persons["recall"] <= 1
        assert edited["persons-detection"]["map50_95"] < persons["map50_95"]
    # The pre-labels are yolox_nano's own boxes: it agrees with them more than DEIMv2 does.
    nano = runs["as-exported"]["yolox_nano"]["services"]
    deim = runs["as-exported"]["deimv2_femto"]["services"]
    assert nano[0]["map50"] >= deim[0]["map50"]
