"""Chunked uploads (Transfer-Encoding: chunked, no Content-Length) through a real portal
(gunicorn de-chunks, the video route streams the body to its temporary file): the shared clip
sent chunked is stored byte for byte and queued; a chunked body past the upload bound gets 413
while it is still arriving, with nothing stored, no temporary file left and the portal's memory
flat. The bound is 8 MiB here (IPCAI_VIDEO_MAX_UPLOAD_BYTES; 2 GiB by default) so the refused
body is small; the code path is the one a 2 GiB bound takes."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest
import requests

from harness.camera_clip import CLIP
from harness.oversized_upload import process_tree_rss_kib, send_until_answered
from harness.polling import eventually
from harness.portal import running_portal

pytestmark = pytest.mark.slow

BOUND = 8 * 1024 * 1024
BOUNDARY = "clipboundary" + "x" * 8


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url):
    folder = tmp_path_factory.mktemp("chunked-upload")
    (folder / "tmp").mkdir()
    with running_portal(
        folder,
        worker_url,
        IPCAI_ARCHIVE_URL=f"file://{folder / 'archive'}",
        IPCAI_EVENT_SPOOL_DIR=str(folder / "spool"),
        IPCAI_VIDEO_WORK_DIR=str(folder / "work"),
        IPCAI_VIDEO_MAX_UPLOAD_BYTES=str(BOUND),
        TMPDIR=str(folder / "tmp"),  # where the upload's temporary file goes
    ) as running:
        yield running, folder


def multipart(name: str, parts: Iterator[bytes], fps: str = "2") -> Iterator[bytes]:
    """A multipart body, yielded piece by piece (requests sends a generator chunked)."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="fps"\r\n\r\n{fps}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    yield from parts
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def chunked_request_head(host: str, key: str, filename: str) -> bytes:
    """A chunked upload's request line and headers, then its first chunk: the multipart head
    up to the file's bytes. The file's chunks follow, as each test frames them."""
    head = next(multipart(filename, iter(())))
    return (
        (
            f"POST /api/v1/video-jobs HTTP/1.1\r\nHost: {host}\r\nx-api-key: {key}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
            f"{len(head):x}\r\n"
        ).encode()
        + head
        + b"\r\n"
    )


def test_a_chunked_upload_is_streamed_stored_and_queued(portal):
    running, folder = portal
    key = running.create_tenant(f"chunked-{uuid.uuid4().hex[:6]}")
    clip = CLIP.read_bytes()
    pieces = (clip[i : i + 300_000] for i in range(0, len(clip), 300_000))
    response = requests.post(
        f"{running.base_url}/api/v1/video-jobs",
        data=multipart("hall.mp4", pieces),
        headers={
            "x-api-key": key,
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        },
        timeout=120,
    )
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.request.headers
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "queued" and job["clip"]["size_bytes"] == len(clip)
    (stored,) = (folder / "archive").rglob(f"{job['id']}/clip-hall.mp4")
    assert stored.read_bytes() == clip
    assert list((folder / "tmp").iterdir()) == []


def test_a_chunked_upload_past_the_bound_is_refused_while_it_arrives(portal):
    running, folder = portal
    key = running.create_tenant(f"chunked-{uuid.uuid4().hex[:6]}")
    before = process_tree_rss_kib(running.server.process.pid)
    stored_before = sorted((folder / "archive").rglob("*"))
    host, port = running.base_url.removeprefix("http://").split(":")
    piece = b"\0" * (1024 * 1024)
    framed = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    # At most 64 MiB of a never-ending body, one chunk a megabyte.
    answer, pieces = send_until_answered(
        host,
        int(port),
        chunked_request_head(host, key, "big.mp4"),
        framed,
        max_pieces=8 * BOUND // len(piece),
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"payload_too_large" in answer
    assert pieces < 8 * BOUND // len(piece)  # refused while arriving, not after the whole body
    assert sorted((folder / "archive").rglob("*")) == stored_before
    # The request thread deletes its partial file as it unwinds.
    eventually(lambda: not list((folder / "tmp").iterdir()), 10, "no temporary file left")
    grown_kib = process_tree_rss_kib(running.server.process.pid) - before
    assert grown_kib < 64 * 1024  # under 64 MiB more
    jobs = requests.get(
        f"{running.base_url}/api/v1/video-jobs", headers={"x-api-key": key}, timeout=30
    ).json()
    assert jobs["results"] == []


def raw_answer(base_url: str, data: bytes, half_close: bool) -> bytes:
    """Send `data` as is; with half_close, end the request body there (the client stops
    writing) and read what the portal answers."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(data)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        answer = b""
        while b"}}" not in answer and (more := conn.recv(65536)):
            answer += more
    return answer


@pytest.mark.parametrize("broken", ["bad chunk size", "body ends early"])
def test_a_malformed_or_truncated_chunked_body_is_a_clear_400(portal, broken):
    running, folder = portal
    key = running.create_tenant(f"chunked-{uuid.uuid4().hex[:6]}")
    stored_before = sorted((folder / "archive").rglob("*"))
    host = running.base_url.removeprefix("http://")
    request = chunked_request_head(host, key, "clip.mp4") + b"1000\r\n" + b"\0" * 4096
    if broken == "bad chunk size":
        answer = raw_answer(running.base_url, request + b"\r\nzz\r\n", half_close=False)
    else:
        answer = raw_answer(running.base_url, request, half_close=True)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b'"invalid_body"' in answer
    assert sorted((folder / "archive").rglob("*")) == stored_before
    eventually(lambda: not list((folder / "tmp").iterdir()), 10, "no temporary file left")
