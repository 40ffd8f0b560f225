"""Import reviewed COCO annotations (CVAT, Label Studio, or our own export edited) as a tenant
evaluation set: the ground truth and its images, kept in the archive storage.

Images come from the export zip the annotations were made from (`images/<file_name>`), or a
folder. Everything is checked before anything is stored, so a bad file leaves no half set:
file names that would leave the set's folder (`..`, absolute paths, backslashes), a set of
more than MAX_SET_IMAGES images or MAX_SET_BYTES, and a zip member larger than its bound
(refused by its declared size, before it is read) are refused with a clear message.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from django.db import transaction

from apps.archive.layout import ImageType, sniff_image_type
from apps.core.storage import ArchiveStorage
from apps.reports.evaluation.metrics import normalised_ground_truth
from apps.reports.models import EvaluationSet
from apps.tenants.models import Tenant

ImageSource = Callable[[str], bytes | None]
MAX_PROBLEMS_SHOWN = 5
MAX_IMAGE_BYTES = 50 * 1024**2
MAX_ANNOTATIONS_BYTES = 100 * 1024**2
MAX_SET_IMAGES = 20_000
MAX_SET_BYTES = 4 * 1024**3


class InvalidEvaluationSet(ValueError):
    """The annotations or images are not a usable COCO set; the message says what is wrong."""


def zip_images(path: Path) -> tuple[ImageSource, dict | None]:
    """Images of an export zip, and its `annotations.json` when it has one."""
    archive = zipfile.ZipFile(path)
    names = set(archive.namelist())

    def read(file_name: str) -> bytes | None:
        for candidate in (f"images/{file_name}", file_name):
            if candidate in names:
                return _bounded_read(archive, candidate, MAX_IMAGE_BYTES)
        return None

    annotations = None
    if "annotations.json" in names:
        annotations = json.loads(_bounded_read(archive, "annotations.json", MAX_ANNOTATIONS_BYTES))
    return read, annotations


def _bounded_read(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A member's bytes, refused by its declared size first (zipfile reads no more than it
    declares, so a bomb cannot expand past the bound)."""
    size = archive.getinfo(name).file_size
    if size > limit:
        raise InvalidEvaluationSet(f"{name} is larger than {limit // 1024**2} MB ({size} bytes)")
    return archive.read(name)


def unsafe_file_name(file_name: str) -> bool:
    """True for a name that would leave the set's folder or is not a plain relative path."""
    parts = file_name.replace("\\", "/").split("/")
    return (
        not file_name
        or file_name.startswith("/")
        or "\\" in file_name
        or "\x00" in file_name
        or any(part in ("", ".", "..") for part in parts)
    )


def folder_images(folder: Path) -> ImageSource:
    root = folder.resolve()

    def read(file_name: str) -> bytes | None:
        path = (root / file_name).resolve()
        if root not in path.parents or not path.is_file():
            return None
        return path.read_bytes()

    return read


def check_coco(document: object) -> dict:
    """The document normalised for pycocotools, or InvalidEvaluationSet naming the problems."""
    if not isinstance(document, dict) or not all(
        isinstance(document.get(k), list) for k in ("images", "annotations", "categories")
    ):
        raise InvalidEvaluationSet("not a COCO file: images, annotations and categories needed")
    problems = []
    image_ids = {image.get("id") for image in document["images"]}
    category_ids = {category.get("id") for category in document["categories"]}
    if not document["images"]:
        problems.append("no images")
    for image in document["images"]:
        if not isinstance(image.get("file_name"), str) or "id" not in image:
            problems.append(f"image {image!r:.60} needs id and file_name")
        elif unsafe_file_name(image["file_name"]):
            problems.append(
                f"image {image['id']}: file_name {image['file_name']!r:.60} is not allowed"
            )
    for annotation in document["annotations"]:
        bbox = annotation.get("bbox")
        if annotation.get("image_id") not in image_ids:
            problems.append(f"annotation {annotation.get('id')}: unknown image_id")
        elif annotation.get("category_id") not in category_ids:
            problems.append(f"annotation {annotation.get('id')}: unknown category_id")
        elif (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(isinstance(v, int | float) for v in bbox)
            or bbox[2] <= 0
            or bbox[3] <= 0
        ):
            problems.append(f"annotation {annotation.get('id')}: bbox must be [x, y, w>0, h>0]")
    if problems:
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        raise InvalidEvaluationSet(shown + (f"; and {more} more" if more > 0 else ""))
    return normalised_ground_truth(document)


def import_evaluation_set(
    tenant: Tenant, name: str, annotations: object, images: ImageSource, storage: ArchiveStorage
) -> EvaluationSet:
    """Store the set's images and ground truth, then its row (so a listed set is complete)."""
    if not name or "/" in name:
        raise InvalidEvaluationSet("the set needs a name without '/'")
    if EvaluationSet.objects.filter(tenant=tenant, name=name).exists():
        raise InvalidEvaluationSet(f"tenant {tenant.slug} already has an evaluation set {name!r}")
    document = check_coco(annotations)
    if len(document["images"]) > MAX_SET_IMAGES:
        raise InvalidEvaluationSet(f"a set has at most {MAX_SET_IMAGES} images")
    loaded: dict[str, tuple[bytes, ImageType]] = {}
    missing = []
    total = 0
    for image in document["images"]:
        data = images(image["file_name"])
        total += len(data or b"")
        if total > MAX_SET_BYTES:
            raise InvalidEvaluationSet(f"the set's images are larger than {MAX_SET_BYTES} bytes")
        kind = sniff_image_type(data) if data is not None else None
        if data is None or kind is None:
            missing.append(image["file_name"])
        else:
            loaded[image["file_name"]] = (data, kind)
    if missing:
        raise InvalidEvaluationSet(
            f"{len(missing)} images not found or not images: {', '.join(missing[:5])}"
        )
    evaluation_set = EvaluationSet(
        tenant=tenant,
        name=name,
        images=len(document["images"]),
        annotations=len(document["annotations"]),
        categories=sorted(c["name"] for c in document["categories"]),
    )
    prefix = evaluation_set.storage_prefix
    for file_name, (data, kind) in loaded.items():
        storage.put_once(f"{prefix}/images/{file_name}", data, kind.content_type)
    storage.put_once(
        f"{prefix}/ground_truth.json", json.dumps(document).encode(), "application/json"
    )
    with transaction.atomic():
        evaluation_set.save()
    return evaluation_set
