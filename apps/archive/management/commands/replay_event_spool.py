"""`manage.py replay_event_spool`: publish events spooled while the broker was down.

Portal processes replay their spool by themselves; this is for operators and for container
entrypoints that want the spool empty before traffic starts.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.core.spool_replay import replay_spool


class Command(BaseCommand):
    help = "Publish spooled request events to the broker (oldest first)."

    def handle(self, *args, **options) -> None:
        result = replay_spool()
        self.stdout.write(f"published {result.published}, remaining {result.remaining}")
        if result.error:
            raise CommandError(f"broker unavailable: {result.error}")
