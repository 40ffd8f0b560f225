"""The three dataset formats, as files to put in the export zip.

Each format gets the samples one by one (`sample_files`: the per-image files, written as they
come, so images never pile up in memory) and then writes its index (`closing_files`). Only the
index metadata (a few hundred bytes per image) is held until the end.

- COCO: `annotations.json` (instances: images, annotations with the model's `score` kept,
  categories) + `images/`. pycocotools, CVAT and Label Studio read it.
- YOLO: `images/`, `labels/<stem>.txt` (`class cx cy w h`, normalised), `data.yaml`
  (Ultralytics layout: path, train, val, names).
- Label Studio: `tasks.json` (one task per image, the model's boxes as `predictions`, see
  https://labelstud.io/guide/predictions) + `label_config.xml` for the project + `images/`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from apps.reports.datasets.boxes import Box

COCO, YOLO, LABEL_STUDIO = "coco", "yolo", "labelstudio"
FORMATS = (COCO, YOLO, LABEL_STUDIO)
FORMAT_LABELS = {COCO: "COCO", YOLO: "YOLO", LABEL_STUDIO: "Label Studio"}
IMAGES_DIR = "images"


@dataclass(frozen=True)
class Sample:
    """One archived frame going into a dataset."""

    event_id: str
    file_name: str  # inside images/
    width: int
    height: int
    boxes: tuple[Box, ...]
    application_type: str
    received_at: str
    model: str

    @property
    def stem(self) -> str:
        return self.file_name.rsplit(".", 1)[0]


def _json(value: object) -> bytes:
    return json.dumps(value, indent=1, ensure_ascii=False).encode()


class DatasetFormat(Protocol):
    def sample_files(self, sample: Sample) -> Iterable[tuple[str, bytes]]:
        """Files (beside the image) this sample adds, written at once."""

    def closing_files(self) -> Iterable[tuple[str, bytes]]:
        """The index files, written after the last sample."""


class CocoFormat:
    def __init__(self, classes: list[str]) -> None:
        self.categories = {name: index for index, name in enumerate(classes, start=1)}
        self.images: list[dict] = []
        self.annotations: list[dict] = []

    def sample_files(self, sample: Sample) -> Iterable[tuple[str, bytes]]:
        image_id = len(self.images) + 1
        self.images.append(
            {
                "id": image_id,
                "file_name": sample.file_name,
                "width": sample.width,
                "height": sample.height,
                "event_id": sample.event_id,
                "application_type": sample.application_type,
                "date_captured": sample.received_at,
                "model": sample.model,
            }
        )
        for box in sample.boxes:
            w, h = round(box.width, 2), round(box.height, 2)
            self.annotations.append(
                {
                    "id": len(self.annotations) + 1,
                    "image_id": image_id,
                    "category_id": self.categories[box.label],
                    "bbox": [round(box.x1, 2), round(box.y1, 2), w, h],
                    "area": round(w * h, 2),
                    "iscrowd": 0,
                    "segmentation": [],
                    "score": round(box.score, 4),
                }
            )
        return ()

    def closing_files(self) -> Iterable[tuple[str, bytes]]:
        document = {
            "info": {"description": "IPC AI archive export; boxes are model pre-labels"},
            "images": self.images,
            "annotations": self.annotations,
            "categories": [
                {"id": index, "name": name, "supercategory": ""}
                for name, index in self.categories.items()
            ],
        }
        yield "annotations.json", _json(document)


class YoloFormat:
    def __init__(self, classes: list[str]) -> None:
        self.classes = classes
        self.index = {name: i for i, name in enumerate(classes)}

    def sample_files(self, sample: Sample) -> Iterable[tuple[str, bytes]]:
        lines = []
        for box in sample.boxes:
            cx = (box.x1 + box.x2) / 2 / sample.width
            cy = (box.y1 + box.y2) / 2 / sample.height
            w, h = box.width / sample.width, box.height / sample.height
            lines.append(f"{self.index[box.label]} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
        yield f"labels/{sample.stem}.txt", "".join(f"{line}\n" for line in lines).encode()

    def closing_files(self) -> Iterable[tuple[str, bytes]]:
        # JSON strings are valid YAML scalars: no YAML library needed to quote class names.
        names = "".join(f"  {i}: {json.dumps(name)}\n" for i, name in enumerate(self.classes))
        text = (
            "# IPC AI archive export; labels are model pre-labels to review\n"
            f"path: .\ntrain: {IMAGES_DIR}\nval: {IMAGES_DIR}\nnc: {len(self.classes)}\n"
            f"names:\n{names}"
        )
        yield "data.yaml", text.encode()


class LabelStudioFormat:
    FROM_NAME, TO_NAME = "label", "image"

    def __init__(self, classes: list[str]) -> None:
        self.classes = classes
        self.tasks: list[dict] = []

    def sample_files(self, sample: Sample) -> Iterable[tuple[str, bytes]]:
        result = [
            {
                "id": f"{sample.stem[:8]}-{i}",
                "type": "rectanglelabels",
                "from_name": self.FROM_NAME,
                "to_name": self.TO_NAME,
                "original_width": sample.width,
                "original_height": sample.height,
                "image_rotation": 0,
                "value": {
                    "x": box.x1 / sample.width * 100,
                    "y": box.y1 / sample.height * 100,
                    "width": box.width / sample.width * 100,
                    "height": box.height / sample.height * 100,
                    "rotation": 0,
                    "rectanglelabels": [box.label],
                },
                "score": round(box.score, 4),
            }
            for i, box in enumerate(sample.boxes)
        ]
        self.tasks.append(
            {
                "id": len(self.tasks) + 1,
                "data": {
                    "image": f"{IMAGES_DIR}/{sample.file_name}",
                    "event_id": sample.event_id,
                    "application_type": sample.application_type,
                    "received_at": sample.received_at,
                },
                "predictions": [
                    {
                        "model_version": sample.model or "unknown",
                        "score": round(max((b.score for b in sample.boxes), default=0.0), 4),
                        "result": result,
                    }
                ],
            }
        )
        return ()

    def closing_files(self) -> Iterable[tuple[str, bytes]]:
        labels = "".join(f'    <Label value="{_xml(name)}"/>\n' for name in self.classes)
        config = (
            "<View>\n"
            f'  <Image name="{self.TO_NAME}" value="$image"/>\n'
            f'  <RectangleLabels name="{self.FROM_NAME}" toName="{self.TO_NAME}">\n'
            f"{labels}  </RectangleLabels>\n</View>\n"
        )
        yield "tasks.json", _json(self.tasks)
        yield "label_config.xml", config.encode()


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def dataset_format(name: str, classes: list[str]) -> DatasetFormat:
    formats: dict[str, Callable[[list[str]], DatasetFormat]] = {
        COCO: CocoFormat,
        YOLO: YoloFormat,
        LABEL_STUDIO: LabelStudioFormat,
    }
    if name not in formats:
        raise ValueError(f"unknown format {name!r}; use one of {', '.join(FORMATS)}")
    return formats[name](classes)
