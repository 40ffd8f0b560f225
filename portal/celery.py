"""The Celery app: background tasks (usage drain, archiving) and the beat schedule.

Beat runs with ``HeartbeatScheduler`` (settings.CELERY_BEAT_SCHEDULER): Celery's persistent
scheduler plus a heartbeat at every tick. A beat killed or hung used to stop usage draining,
spool replay, the outbox sweep and retention with no error anywhere; now ``/healthz/celery``
and the ``ipcai_heartbeat_age_seconds`` gauge show its silence within one drain interval.
"""

import os
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class HeartbeatScheduler(PersistentScheduler):
    def tick(self, *args: Any, **kwargs: Any) -> float:
        from apps.core.heartbeats import beat  # after Django is set up

        beat("beat")
        return super().tick(*args, **kwargs)
