"""What the background side is doing, for people and for Prometheus: heartbeat ages, the
archive outbox's backlog and counters, and this host's spool.

``background_status`` feeds the readiness route (``/healthz/celery``, portal/health.py) and
``manage.py archive_status``; ``BackgroundCollector`` gives its gauges to ``/metrics``
(portal/metrics.py).
Both read Redis and the local spool folder when asked, so every portal process answers the same
(the spool is per host: each host reports its own).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from apps.archive import outbox
from apps.archive.outbox import OutboxStats
from apps.core import heartbeats
from apps.core.spool import SpoolStats, get_spool


def stale_after_s() -> dict[str, float]:
    """How old each heartbeat may be before it counts as stale.

    Beat ticks at least every CELERY_BEAT_MAX_LOOP_INTERVAL (a fifth of a drain interval), so a
    beat silent for half a drain interval has missed two ticks and more: it is dead or hung, and
    the readiness route says so well within one drain interval of its death.
    The jobs get three of their own intervals and at least a minute (a slow drain on a busy
    machine is not a dead one, and readiness must not flap).
    """
    drain = settings.IPCAI_USAGE_DRAIN_INTERVAL_S
    return {
        "beat": drain / 2,
        "drain": max(60.0, 3 * drain),
        "archive_sweep": max(60.0, 3 * settings.IPCAI_ARCHIVE_SWEEP_S),
        "spool_replay": max(60.0, 3 * settings.IPCAI_SPOOL_SWEEP_S),
    }


@dataclass(frozen=True)
class BackgroundStatus:
    ages: dict[str, float | None]
    stale: list[str]
    outbox: OutboxStats
    spool: SpoolStats

    @property
    def ok(self) -> bool:
        return not self.stale

    def as_dict(self) -> dict:
        limits = stale_after_s()
        return {
            "status": "ok" if self.ok else "stale",
            "heartbeats": {
                name: {
                    "age_s": None if age is None else round(age, 1),
                    "stale_after_s": limits[name],
                    "stale": name in self.stale,
                    "what": heartbeats.HEARTBEATS[name],
                }
                for name, age in self.ages.items()
            },
            "archive_outbox": self.outbox.as_dict(),
            "spool": self.spool.as_dict(),
        }

    def line(self) -> str:
        """The admin line: one sentence an operator can read in a log or a terminal."""
        o = self.outbox
        ages = ", ".join(
            f"{name} {'never' if age is None else f'{age:.0f}s ago'}"
            for name, age in self.ages.items()
        )
        state = "ok" if self.ok else f"STALE: {', '.join(self.stale)}"
        return (
            f"archive outbox: {o.entries} waiting ({o.pending} pending), {o.stored} stored, "
            f"{o.reconciled} reconciled, {o.dropped} dropped; spool: {self.spool.files} files; "
            f"heartbeats: {ages}; {state}"
        )


def background_status() -> BackgroundStatus:
    """Raises RedisError when Redis does not answer."""
    ages = heartbeats.ages()
    limits = stale_after_s()
    stale = [name for name, age in ages.items() if age is None or age > limits[name]]
    return BackgroundStatus(ages, stale, outbox.stats(), get_spool().stats())


class BackgroundCollector:
    """Prometheus gauges of the background side (portal/metrics.py registers it)."""

    def collect(self):
        status = background_status()
        age = GaugeMetricFamily(
            "ipcai_heartbeat_age_seconds",
            "Seconds since beat, the usage drain, the archive sweep and the spool replay last "
            "ran (absent: never)",
            labels=["name"],
        )
        for name, value in status.ages.items():
            if value is not None:
                age.add_metric([name], value)
        yield age
        yield GaugeMetricFamily(
            "ipcai_archive_outbox_entries",
            "Archive events in the outbox, not yet stored",
            value=status.outbox.entries,
        )
        yield GaugeMetricFamily(
            "ipcai_archive_outbox_pending",
            "Outbox entries handed to a consumer and not yet acknowledged",
            value=status.outbox.pending,
        )
        outcomes = CounterMetricFamily(
            "ipcai_archive_outbox_events",
            "Outbox entries by outcome (stored, reconciled: stored after the sweep, dropped)",
            labels=["outcome"],
        )
        for outcome in (outbox.STORED, outbox.RECONCILED, outbox.DROPPED):
            outcomes.add_metric([outcome], getattr(status.outbox, outcome))
        yield outcomes
        files = GaugeMetricFamily(
            "ipcai_spool_files", "Messages in this host's durable spool", labels=["kind"]
        )
        for kind, count in status.spool.by_kind.items():
            files.add_metric([kind], count)
        yield files
        yield GaugeMetricFamily(
            "ipcai_spool_oldest_age_seconds",
            "Age of the oldest message in this host's spool (0: empty)",
            value=status.spool.oldest_age_s or 0.0,
        )
