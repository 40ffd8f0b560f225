"""Which archived frames go into an export: the filters, and the scan that applies them.

Service and date range are index queries on ArchivedEvent. Classes and the score band need the
stored answer, so candidates are read from storage one by one, in a seeded random order when a
sample size is asked for (a sample spread over the whole range, the same one on a re-run), until
the sample is full. A band like 0.3-0.6 picks the frames a labeller should look at first: the
ones the model was unsure about.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from apps.archive.listing import EventFilter, tenant_events
from apps.archive.models import ArchivedEvent
from apps.core.storage import ArchiveStorage, ObjectNotFound
from apps.reports.datasets.boxes import Box, boxes_of_response, image_size, ordered_classes
from apps.reports.datasets.formats import FORMATS, Sample
from apps.tenants.application_types import APPLICATION_LABELS, is_application_type


class InvalidExport(ValueError):
    """The export request itself is wrong (unknown class, empty band...): a 400, not a retry."""


@dataclass(frozen=True)
class ExportSpec:
    """What to export; stored with the job as JSON so a re-run exports the same frames."""

    format: str
    service: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    classes: tuple[str, ...] = ()
    score_min: float | None = None
    score_max: float | None = None
    sample_size: int | None = None
    seed: int = 0
    # Without a service: the tenant's services, whose classes the dataset's categories are.
    tenant_services: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise InvalidExport(f"format must be one of {', '.join(FORMATS)}")
        if self.service is not None and not is_application_type(self.service):
            raise InvalidExport(f"unknown service {self.service!r}")
        unknown = set(self.classes) - self.service_classes()
        if unknown:
            raise InvalidExport(
                f"classes {', '.join(sorted(unknown))} are not returned by "
                f"{self.service or 'any service'}; valid: "
                f"{', '.join(ordered_classes(self.service_classes()))}"
            )
        for name, value in (("score_min", self.score_min), ("score_max", self.score_max)):
            if value is not None and not 0.0 <= value <= 1.0:
                raise InvalidExport(f"{name} must be between 0 and 1")
        low, high = self.band
        if low > high:
            raise InvalidExport("score_min must not be above score_max")
        if self.sample_size is not None and self.sample_size < 1:
            raise InvalidExport("sample_size must be at least 1")
        if self.since and self.until and self.since >= self.until:
            raise InvalidExport("since must be before until")

    def service_classes(self) -> frozenset[str]:
        services = [self.service] if self.service else self.tenant_services or APPLICATION_LABELS
        return frozenset().union(*(APPLICATION_LABELS[s] for s in services))

    def export_classes(self) -> list[str]:
        return ordered_classes(set(self.classes) or self.service_classes())

    @property
    def band(self) -> tuple[float, float]:
        return (
            0.0 if self.score_min is None else self.score_min,
            1.0 if self.score_max is None else self.score_max,
        )

    @property
    def filters_boxes(self) -> bool:
        return bool(self.classes) or self.score_min is not None or self.score_max is not None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["classes"] = list(self.classes)
        data["tenant_services"] = list(self.tenant_services)
        for name in ("since", "until"):
            data[name] = data[name].isoformat() if data[name] else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExportSpec:
        data = dict(data)
        for name in ("since", "until"):
            data[name] = datetime.fromisoformat(data[name]) if data.get(name) else None
        data["classes"] = tuple(data.get("classes") or ())
        data["tenant_services"] = tuple(data.get("tenant_services") or ())
        return cls(**data)


def candidate_ids(tenant_id: int, spec: ExportSpec, limit: int) -> list[str]:
    """Archived events with an image in the spec's service and range, in scan order: oldest
    first, or seeded-shuffled when sampling. At most `limit` ids (the newest ones)."""
    events = tenant_events(
        tenant_id, EventFilter(service=spec.service, since=spec.since, until=spec.until)
    ).exclude(image_key="")
    ids = [str(pk) for pk in events.order_by("-received_at").values_list("id", flat=True)[:limit]]
    ids.reverse()
    if spec.sample_size is not None:
        random.Random(spec.seed).shuffle(ids)
    return ids


def _kept_boxes(spec: ExportSpec, boxes: list[Box]) -> list[Box] | None:
    """The frame's pre-labels (boxes of the export's classes), or None when the frame does not
    pass the class / band filter."""
    classes = set(spec.export_classes())
    kept = [box for box in boxes if box.label in classes]
    if not spec.filters_boxes:
        return kept
    low, high = spec.band
    if any(low <= box.score <= high for box in kept):
        return kept
    return None


def scan(
    tenant_id: int, spec: ExportSpec, storage: ArchiveStorage, ids: list[str]
) -> Iterator[tuple[int, Sample | None, bytes]]:
    """(candidates scanned, sample or None when filtered out, image bytes) per candidate, until
    the sample is full. Events whose objects are gone (retention ran meanwhile) are skipped."""
    rows = ArchivedEvent.objects.filter(tenant_id=tenant_id)
    taken = 0
    for scanned, event_id in enumerate(ids, start=1):
        if spec.sample_size is not None and taken >= spec.sample_size:
            return
        event = rows.filter(id=event_id).first()
        if event is None:
            yield scanned, None, b""
            continue
        try:
            record = json.loads(storage.get(event.record_key))
            image = storage.get(event.image_key)
        except ObjectNotFound:
            yield scanned, None, b""
            continue
        response = record.get("response") or {}
        boxes = _kept_boxes(spec, boxes_of_response(response))
        size = image_size(image)
        if boxes is None or size is None:
            yield scanned, None, b""
            continue
        taken += 1
        extension = event.image_key.rsplit(".", 1)[-1]
        yield (
            scanned,
            Sample(
                event_id=event.id.hex,
                file_name=f"{event.id.hex}.{extension}",
                width=size[0],
                height=size[1],
                boxes=tuple(boxes),
                application_type=event.application_type,
                received_at=event.received_at.isoformat(),
                model=event.model or str(response.get("model") or ""),
            ),
            image,
        )
