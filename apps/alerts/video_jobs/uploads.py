"""A multipart upload streamed to a temporary file with a bound checked as it arrives.

Django's multipart parser hands each chunk (64 KiB) to this handler; nothing is kept in memory
beyond a chunk. The middleware has already refused a larger Content-Length; this counts what is
actually written, so a body whose parts add up past the bound stops there (413) and its partial
file is deleted. The view then copies the file to the archive storage (S3 multipart upload
from disk) and deletes it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class UploadTooLarge(Exception):
    pass


class BoundedFile(UploadedFile):
    """The streamed upload: a named temporary file on local disk."""

    def __init__(self, file, name: str, size: int) -> None:
        super().__init__(file, name=name, content_type="application/octet-stream", size=size)

    @property
    def path(self) -> Path:
        return Path(str(getattr(self.file, "name", "")))


class BoundedUploadHandler(FileUploadHandler):
    chunk_size = 1024 * 1024

    def __init__(self, request=None, limit: int | None = None) -> None:
        super().__init__(request)
        self.limit = limit or settings.IPCAI_VIDEO_MAX_UPLOAD_BYTES
        self.written = 0
        self.too_large = False
        self.target: IO[bytes] | None = None

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.target = tempfile.NamedTemporaryFile(  # noqa: SIM115  # closed with the upload
            prefix="video-upload-", dir=settings.FILE_UPLOAD_TEMP_DIR or None
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.written += len(raw_data)
        if self.written > self.limit:
            self.too_large = True
            if self.target is not None:
                self.target.close()  # deletes it
                self.target = None
            raise StopUpload(connection_reset=True)
        assert self.target is not None
        self.target.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> BoundedFile | None:
        if self.target is None:
            return None
        self.target.flush()
        self.target.seek(0)
        return BoundedFile(self.target, self.file_name or "clip", file_size)
