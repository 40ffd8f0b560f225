"""`manage.py import_evaluation_set --tenant SLUG --name NAME SOURCE [--annotations FILE]`.

SOURCE is the export zip the labellers worked from (its images; its `annotations.json` unless
`--annotations` names the reviewed COCO file, as CVAT or Label Studio export it), or a folder
of images with `--annotations`.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.storage import StorageError, get_storage
from apps.reports.evaluation.sets import (
    InvalidEvaluationSet,
    folder_images,
    import_evaluation_set,
    zip_images,
)
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = "Import reviewed COCO annotations and their images as a tenant evaluation set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="Export zip, or a folder of images.")
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--name", required=True, help="Name of the new evaluation set.")
        parser.add_argument("--annotations", help="COCO instances JSON (reviewed boxes).")

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"no tenant {options['tenant']!r}")
        source = Path(options["source"])
        annotations = None
        if source.is_dir():
            images = folder_images(source)
        elif source.is_file():
            try:
                images, annotations = zip_images(source)
            except Exception as exc:  # zipfile.BadZipFile, a JSON error inside
                raise CommandError(f"{source} is not an export zip: {exc}") from None
        else:
            raise CommandError(f"{source} does not exist")
        if options["annotations"]:
            try:
                annotations = json.loads(Path(options["annotations"]).read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read {options['annotations']}: {exc}") from None
        if annotations is None:
            raise CommandError("no annotations: pass --annotations FILE (COCO instances JSON)")
        try:
            evaluation_set = import_evaluation_set(
                tenant, options["name"], annotations, images, get_storage()
            )
        except InvalidEvaluationSet as exc:
            raise CommandError(str(exc)) from None
        except StorageError as exc:
            raise CommandError(f"archive storage failed: {exc}") from None
        self.stdout.write(
            f"evaluation set {evaluation_set.name} of {tenant.slug}: "
            f"{evaluation_set.images} images, {evaluation_set.annotations} boxes, "
            f"classes {', '.join(evaluation_set.categories)}"
        )
