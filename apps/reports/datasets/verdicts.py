"""Camera-event verdicts in a dataset export, so the model lifecycle gets the labels it lacked:
every false alarm is a hard negative (its best snapshot and the box the model drew there,
which a retrained model must not draw), every confirmed event a positive (the same, a box
that is right). They go under verdicts/ in the zip, beside the format's own files:
verdicts/verdicts.json lists them, verdicts/images/<event id>.jpg holds each snapshot.

The export's time window and classes narrow them as they narrow the archived frames."""

from __future__ import annotations

import orjson

from apps.alerts.feedback.models import EventVerdict, Verdict
from apps.core.storage import ArchiveStorage, StorageError
from apps.reports.datasets.archive_zip import BoundedZip
from apps.reports.datasets.selection import ExportSpec

VERDICTS_DIR = "verdicts"
MAX_VERDICTS = 5000


def write_verdicts(
    archive: BoundedZip, tenant_id: int, spec: ExportSpec, storage: ArchiveStorage
) -> int:
    """Write the tenant's verdicts (within the spec's window and classes); how many."""
    rows = EventVerdict.objects.filter(tenant_id=tenant_id).select_related("event", "camera")
    if spec.since:
        rows = rows.filter(event__started_at__gte=spec.since)
    if spec.until:
        rows = rows.filter(event__started_at__lt=spec.until)
    if spec.classes:
        rows = rows.filter(label__in=spec.classes)
    items = []
    for row in rows.order_by("given_at")[:MAX_VERDICTS]:
        event = row.event
        image = None
        if event.snapshot_key:
            try:
                data = storage.get(event.snapshot_key)
            except StorageError:
                data = b""
            if data:
                image = f"{VERDICTS_DIR}/images/{event.id}.jpg"
                archive.write(image, data, compress=False)
        items.append(
            {
                "event": str(event.id),
                "camera": row.camera.public_id,
                "label": row.label,
                "verdict": row.verdict,
                "use": "hard_negative" if row.verdict == Verdict.FALSE_ALARM else "positive",
                "note": row.note,
                "score": round(row.score, 4),
                "box": list(event.box),
                "image": image,
                "width": event.frame_width,
                "height": event.frame_height,
                "started_at": event.started_at.isoformat(),
            }
        )
    if items:
        document = {
            "about": "Verdicts on camera events: false alarms are hard negatives (the box is "
            "wrong), confirmed events positives (the box is right).",
            "verdicts": items,
        }
        archive.write(f"{VERDICTS_DIR}/verdicts.json", orjson.dumps(document))
    return len(items)
