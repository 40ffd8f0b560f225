"""The JSON body of a successful `/invocations`: the AWS sample's seed fields, which existing
integrations parse, plus what this worker adds. The portal keeps its own copy of the shape
(apps/detection/inference.py): it never imports the worker."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class SeedAnswer(TypedDict):
    """The seed's fields: image size and one entry per object, in the same order."""

    width: int
    height: int
    channels: int
    bbox_coords: list[list[int]]  # [x1, y1, x2, y2] in original-image pixels
    bbox_scores: list[list[float]]  # [score]
    class_names: list[list[str]]  # [label]


class SlicesAnswer(TypedDict):
    """What sliced inference ran: the request's `slices` (auto, regions), how many slices
    beside the whole frame were planned and ran (0: the frame was too small to need them),
    and each slice that ran."""

    requested: str
    planned: int  # slices the frame called for; a CPU runs only those worth it (screening)
    count: int  # slices that ran
    windows: list[list[int]]  # each that ran: [x1, y1, x2, y2] in original-image pixels


class WorkerAnswer(SeedAnswer):
    """The seed's fields plus the request's service, the model that served it and the time
    each stage took (decode, queue, infer, postprocess, total; milliseconds)."""

    application_type: str
    model: str
    timings_ms: dict[str, float]
    slices: NotRequired[SlicesAnswer]  # only when the request asked for slices
