"""A finished export as a streamed HTTP download (API and dashboard share it).

The zip is read from the archive storage in chunks and never held whole: a 2 GiB export costs
the portal one chunk of memory per download.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse

from apps.core.errors import ApiError
from apps.core.storage import StorageError, get_storage
from apps.reports.models import DatasetExport

CHUNK_BYTES = 1 << 20


def export_filename(export: DatasetExport) -> str:
    return f"{export.tenant.slug}-{export.format}-{export.created_at:%Y%m%d-%H%M%S}.zip"


def export_stream(export: DatasetExport) -> StreamingHttpResponse:
    """The zip download; ApiError 409 while it is not built, 503 when storage fails."""
    if export.status != DatasetExport.Status.DONE:
        detail = f": {export.error_message}" if export.error_message else ""
        raise ApiError(409, "export_not_ready", f"The export is {export.status}{detail}")
    try:
        chunks = get_storage().iter_chunks(export.storage_key, CHUNK_BYTES)
        first = next(chunks, b"")  # open the object now, while an error can still be a 503
    except StorageError as exc:
        raise ApiError(503, "archive_unavailable", "Archive storage is unavailable.") from exc

    def body():
        yield first
        yield from chunks

    response = StreamingHttpResponse(body(), content_type="application/zip")
    response["Content-Length"] = str(export.size_bytes)
    response["Content-Disposition"] = f'attachment; filename="{export_filename(export)}"'
    return response
