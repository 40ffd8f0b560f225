"""Signed links to a video job's event snapshots, as live camera events have
(apps/alerts/snapshots.py): the link opens the image without an API key until it expires
(IPCAI_SNAPSHOT_URL_TTL_S), so it can be pasted into a ticket or opened by a webhook receiver,
and its token is bound to one event of one job, so changing an id in it opens nothing."""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "ipcai.video-job-snapshot"


Id = uuid.UUID | str


def signed_path(job_id: Id, event_id: Id, ttl_s: int | None = None) -> str:
    """The snapshot route's path with an expiring token for this job's event."""
    expires = int(time.time()) + (ttl_s or settings.IPCAI_SNAPSHOT_URL_TTL_S)
    token = signing.dumps([str(job_id), str(event_id), expires], salt=_SALT, compress=True)
    path = reverse("alerts:video-job-snapshot", args=[str(job_id), str(event_id)])
    return f"{path}?token={token}"


def signed_url(job_id: Id, event_id: Id, ttl_s: int | None = None) -> str:
    return settings.IPCAI_PUBLIC_URL.rstrip("/") + signed_path(job_id, event_id, ttl_s)


def token_allows(job_id: str, event_id: str, token: str) -> bool:
    """Whether `token` was signed for this job's event and has not expired."""
    try:
        signed_job, signed_event, expires = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return False
    return (
        signed_job == str(job_id) and signed_event == str(event_id) and int(expires) >= time.time()
    )
