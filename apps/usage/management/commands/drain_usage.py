"""`manage.py drain_usage`: store queued usage events now (what the periodic task does)."""

from django.core.management.base import BaseCommand

from apps.usage.metering import drain_usage


class Command(BaseCommand):
    help = "Move queued usage events from Redis into the database and the daily roll-ups."

    def handle(self, *args, **options) -> None:
        stored = drain_usage()
        self.stdout.write(f"stored {stored} usage event(s)")
