"""Build one export: scan the archive, write the zip to a temporary file, upload it.

Runs inside the Celery task (tasks.py) and reports progress through a callback, so the job row
can show "120 of 500 frames" while it runs. The finished zip lives in the archive storage
under `exports/<tenant>/<export id>.zip`, beside the events it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apps.core.redaction import redact_or_none
from apps.core.storage import ArchiveStorage
from apps.reports.datasets.archive_zip import BoundedZip
from apps.reports.datasets.formats import IMAGES_DIR, dataset_format
from apps.reports.datasets.selection import ExportSpec, candidate_ids, scan
from apps.reports.datasets.verdicts import write_verdicts
from apps.tenants.redaction import redaction_of

ZIP = "application/zip"

# (frames written, candidates scanned, candidates in all)
Progress = Callable[[int, int, int], None]


@dataclass(frozen=True)
class BuiltExport:
    images: int
    annotations: int
    size_bytes: int


def export_key(tenant_slug: str, export_id: str) -> str:
    return f"exports/{tenant_slug}/{export_id}.zip"


def build_export(
    tenant_id: int,
    spec: ExportSpec,
    storage: ArchiveStorage,
    key: str,
    *,
    limit_bytes: int,
    max_candidates: int,
    progress: Progress = lambda written, scanned, total: None,
) -> BuiltExport:
    """Write the export zip and store it under `key`; ExportTooLarge past `limit_bytes`."""
    ids = candidate_ids(tenant_id, spec, max_candidates)
    writer = dataset_format(spec.format, spec.export_classes())
    annotations = 0
    # A redacting tenant's frames are blurred again here: frames archived before redaction
    # was turned on are stored as sent. One that cannot be blurred is left out of the zip.
    redact = redaction_of(tenant_id)
    with BoundedZip(limit_bytes) as archive:
        progress(0, 0, len(ids))
        for scanned, sample, image in scan(tenant_id, spec, storage, ids):
            if sample is not None and redact:
                image = redact_or_none(image, redact) or b""
            if sample is not None and image:
                archive.write_image(f"{IMAGES_DIR}/{sample.file_name}", image)
                for name, data in writer.sample_files(sample):
                    archive.write(name, data)
                annotations += len(sample.boxes)
            # Filtered scans may read many candidates per frame kept: report both.
            progress(archive.images, scanned, len(ids))
        for name, data in writer.closing_files():
            archive.write(name, data)
        write_verdicts(archive, tenant_id, spec, storage)  # false alarms, confirmed events
        size = archive.finish()
        storage.put_file(key, archive.path, ZIP)
        return BuiltExport(images=archive.images, annotations=annotations, size_bytes=size)
