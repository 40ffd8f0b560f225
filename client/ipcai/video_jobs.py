"""Stored-video analysis through `/api/v1/video-jobs`: send a clip, follow its progress, read
its events; list and cancel jobs.

The clip is streamed from its file (never read whole into memory) in one POST with its
Content-Length, which the service needs to refuse a clip over its bound before storing it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ipcai.account import _table  # the same table layout as `ipcai keys`
from ipcai.client import Client

JOBS_PATH = "/api/v1/video-jobs"
FINISHED = frozenset({"succeeded", "failed", "cancelled"})


def submit_video(
    client: Client,
    path: Path,
    *,
    camera: str | None = None,
    fps: float | None = None,
    services: Sequence[str] = (),
    min_confidence: float | None = None,
) -> dict[str, Any]:
    """Upload the clip and start its analysis; the new job (status `queued`)."""
    fields: dict[str, Any] = {}
    if camera:
        fields["camera"] = camera
    if fps is not None:
        fields["fps"] = str(fps)
    if services:
        fields["services"] = list(services)
    if min_confidence is not None:
        fields["min_confidence"] = str(min_confidence)
    with path.open("rb") as clip:
        response = client.request(
            "POST",
            f"{client.base_url}{JOBS_PATH}",
            files={"file": (path.name, clip, "application/octet-stream")},
            data=fields,
            idempotent=False,  # a retried upload would start a second job
            timeout=None,  # a large clip takes as long as the link needs
        )
    return dict(response.json())


def get_job(client: Client, job_id: str, *, frames: bool = False) -> dict[str, Any]:
    params = {"frames": "true"} if frames else None
    return dict(client.get_json(f"{JOBS_PATH}/{job_id}", params))


def list_jobs(
    client: Client, *, status: str | None = None, camera: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    params = {k: v for k, v in {"status": status, "camera": camera}.items() if v}
    params["limit"] = str(limit)
    return list(client.get_json(JOBS_PATH, params).get("results", []))


def cancel_job(client: Client, job_id: str) -> dict[str, Any] | None:
    """Cancel a queued or running job (its state, cancelled), or delete a finished one (None);
    either way what it stored is deleted."""
    answer = client.send_json("DELETE", f"{JOBS_PATH}/{job_id}")
    return None if answer is None else dict(answer)


def wait_for_job(
    client: Client,
    job_id: str,
    *,
    on_progress: Callable[[Mapping[str, Any]], None] | None = None,
    interval_s: float = 1.0,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Poll until the job finishes (or `stop` is set); its last state."""
    stop = stop or threading.Event()
    while True:
        job = get_job(client, job_id)
        if on_progress is not None:
            on_progress(job)
        if job["status"] in FINISHED or stop.is_set():
            return job
        stop.wait(interval_s)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(float(value), 60)
    return f"{int(minutes)}:{seconds:04.1f}"


def format_jobs(jobs: Sequence[Mapping[str, Any]]) -> str:
    rows = [("id", "file", "status", "progress", "length", "created")]
    for job in jobs:
        rows.append(
            (
                str(job["id"]),
                str(job.get("file_name") or "-"),
                str(job["status"]),
                f"{job['progress']['percent']:.0f}%",
                _seconds(job["clip"]["duration_s"] or None),
                str(job.get("created_at") or "-")[:16],
            )
        )
    return _table(rows)


def format_job(job: Mapping[str, Any]) -> str:
    lines = [
        f"job {job['id']}: {job['status']} ({job['progress']['percent']:.0f}%, "
        f"{job['progress']['media_seconds_done']:.1f} of "
        f"{job['progress']['media_seconds_total']:.1f} s)"
    ]
    if job.get("error"):
        lines.append(f"error {job['error']['code']}: {job['error']['message']}")
    if job.get("note"):
        lines.append(job["note"])
    events = job.get("events") or []
    if events:
        rows = [("label", "start", "end", "score", "zones")]
        rows += [
            (
                e["label"] + (f" {e['plate']}" if e.get("plate") else ""),
                _seconds(e["start_s"]),
                _seconds(e["end_s"]),
                f"{e['max_score']:.2f}",
                ",".join(e.get("zones") or ()) or "-",
            )
            for e in events
        ]
        lines.append(_table(rows))
    elif job["status"] == "succeeded":
        lines.append("no events")
    return "\n".join(lines)
