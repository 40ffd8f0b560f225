"""`manage.py purge_expired_events`: apply retention now (beat also runs it hourly)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.archive.store import purge_expired_events


class Command(BaseCommand):
    help = "Delete archived request events older than their service's retention_days."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"removed {purge_expired_events()} expired events")
