"""Operator admin for the model registry and model evaluations (apps/tenants, apps/reports).

Registering a model checks its file in the model store (sha256 filled in or verified) through
the registry's own function; assigning one to a tenant service is validated by the service
model (missing classes, another tenant's model), so the admin, the commands and tests share
the rules. Model evaluations are shown side by side per service, as `evaluate_model` prints.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.reports.evaluation.table import COLUMNS, result_rows
from apps.reports.models import EvaluationSet, ModelEvaluation
from apps.tenants.model_registry import check_model_file
from apps.tenants.models import DetectionModel


def tier_choices() -> list[tuple[str, str]]:
    default = settings.IPCAI_MODEL_TIERS.get(settings.IPCAI_DEFAULT_TIER, "") or "worker default"
    sliced = set(settings.IPCAI_SLICED_TIERS)  # sliced inference: ~5x the inference cost
    return [("", f"default ({default})")] + [
        (tier, f"{tier} ({model}{', sliced' if tier in sliced else ''})")
        for tier, model in settings.IPCAI_MODEL_TIERS.items()
    ]


class DetectionModelForm(forms.ModelForm):
    class Meta:
        model = DetectionModel
        fields = "__all__"

    def clean(self) -> dict:
        """Checksum from the file in the model store, or the given one checked against it."""
        super().clean()
        data = self.cleaned_data
        if self.errors or not data.get("file"):
            return data
        candidate = DetectionModel(file=data["file"], sha256=data.get("sha256") or "")
        check_model_file(candidate)  # a {"file"|"sha256": ...} error lands on that field
        data["sha256"] = candidate.sha256
        return data


@admin.register(DetectionModel)
class DetectionModelAdmin(admin.ModelAdmin):
    form = DetectionModelForm
    list_display = ["name", "family", "tenant", "classes", "file", "licence"]
    list_filter = ["family", "tenant"]
    search_fields = ["name", "tenant__slug"]

    @admin.display(description="Classes")
    def classes(self, model: DetectionModel) -> str:
        names = model.class_names
        return ", ".join(names) if len(names) <= 6 else f"{len(names)} classes"


@admin.register(EvaluationSet)
class EvaluationSetAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "images", "annotations", "created_at"]
    list_filter = ["tenant"]
    readonly_fields = ["tenant", "name", "images", "annotations", "categories", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # imported with manage.py import_evaluation_set


@admin.register(ModelEvaluation)
class ModelEvaluationAdmin(admin.ModelAdmin):
    """Operators compare models on a tenant's own frames here (per set, newest first)."""

    list_display = ["model", "evaluation_set", "tenant", "cpu_ms_per_image", "created_at"]
    list_filter = ["tenant", "evaluation_set", "model"]
    readonly_fields = ["scores"]
    fields = ["tenant", "evaluation_set", "model", "images", "cpu_ms_per_image", "scores"]

    def has_add_permission(self, request) -> bool:
        return False  # made by manage.py evaluate_model

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Scores per service (this model and the others on the same set)")
    def scores(self, evaluation: ModelEvaluation) -> SafeString:
        latest: dict[str, ModelEvaluation] = {}
        for other in evaluation.evaluation_set.evaluations.order_by("created_at"):
            latest[other.model] = other
        latest[evaluation.model] = evaluation
        head = format_html_join("", "<th>{}</th>", ((c,) for c in COLUMNS))
        rows = format_html_join(
            "",
            "<tr>{}</tr>",
            ((format_html_join("", "<td>{}</td>", ((c,) for c in row)),) for row in
             result_rows(list(latest.values()))),
        )  # fmt: skip
        return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, rows)
