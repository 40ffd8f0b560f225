"""`manage.py evaluate_model --tenant SLUG --set NAME --models a,b,c [--format table|json]`.

Runs each model over the tenant's evaluation set through the inference worker (which must serve
them: IPCAI_MODELS) and prints, side by side per service, COCO mAP50:95 and mAP50,
precision / recall at the service's threshold, and the worker's CPU ms per image. Results are
stored (the admin shows them under Model evaluations).
"""

from __future__ import annotations

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.storage import StorageError, get_storage
from apps.detection.inference import get_inference_client
from apps.reports.evaluation.run import EvaluationFailed, evaluate_model
from apps.reports.evaluation.table import results_table
from apps.reports.models import EvaluationSet


class Command(BaseCommand):
    help = "Score models on a tenant's evaluation set: mAP, precision/recall, CPU ms per image."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--set", required=True, dest="set_name", help="Evaluation set name.")
        parser.add_argument("--models", required=True, help="Comma-separated model names.")
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, **options) -> None:
        evaluation_set = (
            EvaluationSet.objects.select_related("tenant")
            .filter(tenant__slug=options["tenant"], name=options["set_name"])
            .first()
        )
        if evaluation_set is None:
            raise CommandError(
                f"tenant {options['tenant']!r} has no evaluation set {options['set_name']!r}"
            )
        models = [name.strip() for name in options["models"].split(",") if name.strip()]
        if not models:
            raise CommandError("--models needs at least one model name")
        results = []
        for model in models:
            try:
                results.append(
                    evaluate_model(evaluation_set, model, get_inference_client(), get_storage())
                )
            except EvaluationFailed as exc:
                raise CommandError(str(exc)) from None
            except StorageError as exc:
                raise CommandError(f"archive storage failed: {exc}") from None
        if options["format"] == "json":
            for result in results:
                self.stdout.write(orjson.dumps(result.as_dict()).decode())
        else:
            self.stdout.write(results_table(results))
