"""The Celery app: background tasks (usage drain, archiving) and the beat schedule.

Beat runs with ``HeartbeatScheduler`` (settings.CELERY_BEAT_SCHEDULER): Celery's persistent
scheduler plus a heartbeat at every tick. A beat killed or hung used to stop usage draining,
spool replay, the outbox sweep and retention with no error anywhere; now ``/healthz/celery``
and the ``ipcai_heartbeat_age_seconds`` gauge show its silence within one drain interval.

A worker must survive a broker restart: see ``_close_marks_closed_on_a_dead_broker``.
"""

import logging
import os
import warnings
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler
from celery.exceptions import CPendingDeprecationWarning
from celery.signals import celeryd_after_setup
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
logger = logging.getLogger(__name__)


@celeryd_after_setup.connect
def _quiet_the_cancel_on_connection_loss_warning(**_: Any) -> None:
    """Celery 5 warns on every lost broker connection that Celery 6 will cancel running
    late-acknowledged tasks by default. settings.CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_
    CONNECTION_LOSS states the choice (False, and why), so in an outage the warning is noise.
    Added once the worker has set up logging: that step puts Celery's own "always show
    deprecation warnings" filter first."""
    warnings.filterwarnings(
        "ignore",
        message=r"\s*In Celery 5\.1 we introduced an optional breaking change",
        category=CPendingDeprecationWarning,
    )


def _close_marks_closed_on_a_dead_broker(close: Any) -> Any:
    """Wrap kombu's Redis ``Channel.close`` so a broker lost mid-close cannot kill the worker.

    On a lost connection the consumer tears the connection down twice
    (celery/worker/consumer/consumer.py): ``collect()``, then ``close()``. With Redis gone,
    ``collect()`` closes the default channel, whose close fails on the dead socket (draining
    the pending BRPOP) before marking it closed; closing the transport's other channels stops
    at the first that fails (restoring its unacked messages); then ``collect()`` swallows the
    error and detaches the transport (``client=None``). ``close()`` closes the default channel
    again: it restores its unacked messages through a pool built from that client,
    ``AttributeError: 'NoneType' object has no attribute 'hostname'``, no connection error, so
    the worker logged "Unrecoverable error" and exited with status 1.
    Reproduced by tests/portal/test_celery_broker_loss.py. Marking the channel closed when
    its close fails on a connection error ends the channel as the first close meant to; the
    messages it held unacknowledged come back through the broker's visibility timeout
    (CELERY_BROKER_TRANSPORT_OPTIONS), as after a worker crash.
    """

    def wrapped(self: Any) -> None:  # a kombu_redis.Channel
        try:
            close(self)
        except self.connection_errors as exc:
            logger.info("broker channel closed on a lost connection (%r)", exc)
            self.closed = True
            if self._qos is not None:  # nor restore at exit through the detached transport
                self._qos._on_collect.cancel()
            raise

    return wrapped


if not getattr(kombu_redis.Channel.close, "_ipcai_patched", False):
    _patched_close = _close_marks_closed_on_a_dead_broker(kombu_redis.Channel.close)
    _patched_close._ipcai_patched = True
    setattr(kombu_redis.Channel, "close", _patched_close)  # noqa: B010

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class HeartbeatScheduler(PersistentScheduler):
    def tick(self, *args: Any, **kwargs: Any) -> float:
        from apps.core.heartbeats import beat  # after Django is set up

        beat("beat")
        return super().tick(*args, **kwargs)
