"""A size-bounded zip written to a temporary file, entry by entry.

Exports can hold thousands of camera frames: the zip goes to disk as it is built (zipfile
streams each entry), is uploaded from the file, and is never held in memory whole. The bound
is checked before each entry is written, so an export that would pass it stops with a clear
error instead of filling the disk or the bucket.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from types import TracebackType

# Per-entry overhead of the local header + central directory, rounded up (name counted apart).
_ENTRY_OVERHEAD = 128


class ExportTooLarge(Exception):
    """The export would pass its size bound."""

    def __init__(self, limit_bytes: int, images: int) -> None:
        super().__init__(
            f"the export would exceed {limit_bytes // (1024 * 1024)} MiB after {images} images; "
            "narrow the date range, the classes or the score band, or set a smaller sample size"
        )
        self.limit_bytes = limit_bytes


class BoundedZip:
    """Write entries to a temporary zip; `ExportTooLarge` before one would pass `limit_bytes`."""

    def __init__(self, limit_bytes: int, directory: str | None = None) -> None:
        self.limit_bytes = limit_bytes
        self.file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in close()
            prefix="ipcai-export-", suffix=".zip", dir=directory
        )
        self.zip = zipfile.ZipFile(self.file, "w", allowZip64=True)
        self.images = 0

    @property
    def path(self) -> Path:
        return Path(self.file.name)

    @property
    def size(self) -> int:
        return self.file.tell()

    def write(self, name: str, data: bytes, *, compress: bool = True) -> None:
        """Add one entry. Camera JPEGs and PNGs are compressed already: stored as they are."""
        projected = self.size + len(data) + len(name) * 2 + _ENTRY_OVERHEAD
        if projected > self.limit_bytes:
            raise ExportTooLarge(self.limit_bytes, self.images)
        method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self.zip.writestr(name, data, compress_type=method)

    def write_image(self, name: str, data: bytes) -> None:
        self.write(name, data, compress=False)
        self.images += 1

    def finish(self) -> int:
        """Write the central directory; the zip's size in bytes."""
        self.zip.close()
        self.file.flush()
        return self.file.tell()

    def close(self) -> None:
        """Close and delete the temporary file."""
        self.zip.close()
        self.file.close()

    def __enter__(self) -> BoundedZip:
        return self

    def __exit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
