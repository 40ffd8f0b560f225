"""A multipart upload streamed to a temporary file with a bound checked as it arrives.

Django's multipart parser hands each chunk (64 KiB) to this handler; nothing is kept in memory
beyond a chunk. The middleware has already refused a larger Content-Length; this counts what is
actually written, so a body whose parts add up past the bound stops there (413) and its partial
file is deleted. The view then copies the file to the archive storage (S3 multipart upload
from disk) and deletes it.

A chunked body (Transfer-Encoding: chunked, no Content-Length: a client streaming a recording
it has not measured) is read the same way: the server (gunicorn) de-chunks it, `ChunkedBody`
hands it to Django's parser as it arrives and counts it, and stops past the same bound (413,
the partial file deleted). Django reads a body only as far as Content-Length says, so the
request is given the bound as its length: the parser then reads until the body ends.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest


class UploadTooLarge(Exception):
    pass


class BrokenBody(Exception):
    """The chunked body ended before its last chunk, or its framing is not HTTP's."""


class ChunkedBody:
    """The de-chunked request body as Django's parser reads it, at most `limit` bytes: one
    more raises UploadTooLarge, before it is written anywhere."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.received = 0
        self.too_large = False
        self.broken = False

    def read(self, size: int = -1) -> bytes:
        return self._counted(self.stream.read, size)

    def readline(self, size: int = -1) -> bytes:
        return self._counted(self.stream.readline, size)  # the parser drains the rest with it

    def _counted(self, take: Callable[[int], bytes], size: int) -> bytes:
        if self.too_large:
            raise UploadTooLarge()
        room = self.limit + 1 - self.received
        try:
            data = take(room if size < 0 else min(size, room))
        except Exception as exc:  # the server's own (gunicorn: NoMoreData, InvalidChunkSize...)
            self.broken = True
            raise BrokenBody(str(exc)) from exc
        self.received += len(data)
        if self.received > self.limit:
            self.too_large = True
            raise UploadTooLarge()
        return data


def stream_chunked(request: HttpRequest, limit: int) -> ChunkedBody | None:
    """A chunked request's body as a bounded stream for the parser; None for any other."""
    meta = request.META
    encoding = meta.get("HTTP_TRANSFER_ENCODING", "").lower()
    if meta.get("CONTENT_LENGTH") or "chunked" not in encoding:
        return None
    body = ChunkedBody(meta["wsgi.input"], limit)  # META is the WSGI environ
    request._stream = body  # type: ignore[assignment]  # read() is all the parser calls
    meta["CONTENT_LENGTH"] = str(limit)  # at most; the parser reads until the body ends
    return body


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

    def discard(self) -> None:
        """Delete the partial file of an upload stopped by its body's bound."""
        if self.target is not None:
            self.target.close()
            self.target = None

    def file_complete(self, file_size: int) -> BoundedFile | None:
        if self.target is None:
            return None
        self.target.flush()
        self.target.seek(0)
        return BoundedFile(self.target, self.file_name or "clip", file_size)
