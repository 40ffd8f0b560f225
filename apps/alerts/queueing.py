"""Wake a Celery worker for camera-event work, by task name.

The modules that create the work (camera_events, webhooks/delivery, webhooks/endpoints) never
import the task module, which imports them. A queued task only makes the work start sooner:
the rows it works on are in the database, and camera_tasks.camera_sweep finds every one that
is due, so a broker that refuses the message (Redis down) loses nothing.
"""

from __future__ import annotations

import logging

from celery import current_app

logger = logging.getLogger(__name__)

DELIVER_WEBHOOK = "events.deliver_webhook"
STORE_SNAPSHOT = "events.store_snapshot"


def queue(task_name: str, *args: object, countdown: float = 0) -> bool:
    """Publish the task (retry=False: the request path must not wait on a dead broker);
    False when the broker refused it."""
    try:
        _task(task_name).apply_async(args=list(args), countdown=countdown, retry=False)
    except Exception as exc:
        logger.warning("%s%r not queued (the sweep will do it): %s", task_name, args, exc)
        return False
    return True


def _task(task_name: str):
    """The registered task. A web process has not imported the apps' task modules (the worker
    does at start); Celery's loader imports them the first time one is needed here."""
    if task_name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[task_name]
