"""Importing an evaluation set is bounded and checks names first (security review, issue 31,
Low): zip members are read up to a size bound (a member declaring gigabytes is refused before
it is read), the set's image count and total size are bounded, and a `file_name` that would
leave the set's folder (`..`, an absolute path) is refused before anything is stored, so no
half-imported set is left behind."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from apps.core.storage import LocalFolderStorage
from apps.reports.evaluation import sets
from apps.reports.evaluation.sets import InvalidEvaluationSet, import_evaluation_set, zip_images
from apps.reports.models import EvaluationSet
from harness.images import seed_image

JPEG = seed_image("persons")


def coco(*file_names: str) -> dict:
    return {
        "images": [
            {"id": i, "file_name": name, "width": 546, "height": 819}
            for i, name in enumerate(file_names, 1)
        ],
        "annotations": [
            {"id": i, "image_id": i, "category_id": 1, "bbox": [10, 10, 50, 80]}
            for i in range(1, len(file_names) + 1)
        ],
        "categories": [{"id": 1, "name": "person"}],
    }


def stored_files(storage_root) -> list[str]:
    return [p.name for p in storage_root.rglob("*") if p.is_file()] if storage_root.exists() else []


@pytest.mark.parametrize("bad", ["../../escape.jpg", "/etc/passwd", "a/../../b.jpg", "x\\..\\y"])
def test_a_file_name_leaving_the_set_is_refused_before_anything_is_stored(tenant_a, tmp_path, bad):
    storage = LocalFolderStorage(tmp_path / "archive")
    images = {"ok.jpg": JPEG, bad: JPEG}
    with pytest.raises(InvalidEvaluationSet, match="file_name"):
        import_evaluation_set(tenant_a, "set1", coco("ok.jpg", bad), images.get, storage)
    assert stored_files(tmp_path / "archive") == []
    assert not EvaluationSet.objects.exists()


def _zip(tmp_path, members: dict[str, bytes]):
    path = tmp_path / "set.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_zip_member_over_the_bound_is_refused_without_reading_it(tmp_path, monkeypatch):
    monkeypatch.setattr(sets, "MAX_IMAGE_BYTES", 1000)
    path = _zip(
        tmp_path,
        {"annotations.json": json.dumps(coco("big.jpg")).encode(), "images/big.jpg": b"0" * 5000},
    )
    read, _ = zip_images(path)
    with pytest.raises(InvalidEvaluationSet, match="larger than"):
        read("big.jpg")


def test_the_sets_size_and_image_count_are_bounded(tenant_a, tmp_path, monkeypatch):
    storage = LocalFolderStorage(tmp_path / "archive")
    monkeypatch.setattr(sets, "MAX_SET_IMAGES", 2)
    names = ("a.jpg", "b.jpg", "c.jpg")
    with pytest.raises(InvalidEvaluationSet, match="at most 2 images"):
        import_evaluation_set(tenant_a, "s", coco(*names), dict.fromkeys(names, JPEG).get, storage)
    monkeypatch.setattr(sets, "MAX_SET_IMAGES", 100)
    monkeypatch.setattr(sets, "MAX_SET_BYTES", len(JPEG) * 2)
    with pytest.raises(InvalidEvaluationSet, match="larger than"):
        import_evaluation_set(tenant_a, "s", coco(*names), dict.fromkeys(names, JPEG).get, storage)
    assert stored_files(tmp_path / "archive") == []


def test_an_oversized_annotations_file_in_a_zip_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sets, "MAX_ANNOTATIONS_BYTES", 100)
    path = _zip(tmp_path, {"annotations.json": json.dumps(coco("a.jpg")).encode()})
    with pytest.raises(InvalidEvaluationSet, match="larger than"):
        zip_images(path)


def test_a_bounded_zip_still_imports(tenant_a, tmp_path):
    buffer = io.BytesIO(JPEG)
    path = _zip(
        tmp_path,
        {"annotations.json": json.dumps(coco("a.jpg")).encode(), "images/a.jpg": buffer.read()},
    )
    read, annotations = zip_images(path)
    storage = LocalFolderStorage(tmp_path / "archive")
    made = import_evaluation_set(tenant_a, "fine", annotations, read, storage)
    assert made.images == 1
