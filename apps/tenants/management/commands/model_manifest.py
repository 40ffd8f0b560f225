"""`manage.py model_manifest [--output DIR/manifest.json]`: the worker's manifest entries of the
registered models.

The worker reads `<IPCAI_MODEL_DIR>/manifest.json` beside its built-in models; writing it from
the registry (the models the operator registered in the admin) keeps one source of truth for
file, checksum, family, input size and classes. Start the worker with the names in IPCAI_MODELS.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from apps.tenants.models import DetectionModel


class Command(BaseCommand):
    help = "Print (or write) the worker manifest.json of the registered detection models."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", help="Write here instead of printing.")

    def handle(self, *args, **options) -> None:
        manifest = {m.name: m.manifest_entry() for m in DetectionModel.objects.order_by("name")}
        text = json.dumps(manifest, indent=2) + "\n"
        if options["output"]:
            Path(options["output"]).write_text(text)
            self.stdout.write(f"{len(manifest)} models written to {options['output']}")
        else:
            self.stdout.write(text, ending="")
