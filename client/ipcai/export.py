"""Dataset exports over the API: start one, follow its progress, stream the zip to a file.

`ipcai export` drives these; a script can too:

    with Client() as client:
        job = start_export(client, format="coco", service="pets-detection", sample_size=200)
        job = wait_for_export(client, job["id"])
        download_export(client, job, Path("pets.zip"))
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ipcai.client import Client, error_from_response
from ipcai.errors import IpcaiError

POLL_S = 1.0
CHUNK_BYTES = 1 << 20


class ExportFailed(IpcaiError):
    """The service could not build the export (too large, storage down); says why."""


def start_export(client: Client, **filters: Any) -> dict:
    """POST /api/v1/exports with the filters that are set; the queued job."""
    body = {name: value for name, value in filters.items() if value not in (None, [], ())}
    return client.send_json("POST", "/api/v1/exports", body)


def wait_for_export(
    client: Client,
    export_id: str,
    on_progress: Callable[[dict], None] = lambda job: None,
    *,
    poll_s: float = POLL_S,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Poll until the job is done (returned) or failed (ExportFailed with the service's reason)."""
    while True:
        job = client.get_json(f"/api/v1/exports/{export_id}")
        on_progress(job)
        if job["status"] == "done":
            return job
        if job["status"] == "failed":
            error = job.get("error") or {}
            raise ExportFailed(f"{error.get('code', 'export_failed')}: {error.get('message', '')}")
        sleep(poll_s)


def download_export(
    client: Client, job: dict, path: Path, on_bytes: Callable[[int], object] = lambda n: None
) -> int:
    """Stream the finished zip to `path` (never whole in memory); the bytes written."""
    written = 0
    partial = path.with_name(path.name + ".part")
    with client.stream("GET", job["download_url"]) as response:
        if not response.is_success:
            response.read()
            raise error_from_response(response)
        with partial.open("wb") as out:
            for chunk in response.iter_bytes(CHUNK_BYTES):
                out.write(chunk)
                written += len(chunk)
                on_bytes(len(chunk))
    partial.replace(path)  # a file at `path` is always a whole zip
    return written
