"""`manage.py archive_status [--json] [--check beat,drain]`: the background side in one line.

Prints the archive outbox's backlog and counters (waiting, pending, stored, reconciled,
dropped), this host's spool and the heartbeat ages. `--check` exits 1 when one of the named
heartbeats is stale: beat's container health check in infra/cloudformation/portal.yaml.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from redis.exceptions import RedisError

from apps.archive.status import background_status
from apps.core.heartbeats import HEARTBEATS


class Command(BaseCommand):
    help = "Archive outbox counts, spool and heartbeat ages; --check NAME,... for health checks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="The readiness route's JSON.")
        parser.add_argument(
            "--check",
            default="",
            help=f"Exit 1 when one of these heartbeats is stale ({', '.join(HEARTBEATS)}).",
        )

    def handle(self, *args, **options) -> None:
        checked = [name for name in options["check"].split(",") if name]
        unknown = set(checked) - set(HEARTBEATS)
        if unknown:
            raise CommandError(f"unknown heartbeat {', '.join(sorted(unknown))}")
        try:
            status = background_status()
        except RedisError as exc:
            raise CommandError(f"Redis is not answering: {exc}") from None
        if options["json"]:
            self.stdout.write(json.dumps(status.as_dict()))
        else:
            self.stdout.write(status.line())
        stale = [name for name in checked if name in status.stale]
        if stale:
            raise CommandError(f"stale heartbeat: {', '.join(stale)}")
