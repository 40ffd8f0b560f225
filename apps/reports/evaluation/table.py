"""Model evaluations side by side, as a plain-text table (command line, admin)."""

from __future__ import annotations

from collections.abc import Sequence

from apps.reports.models import ModelEvaluation

COLUMNS = ("service", "model", "mAP50:95", "mAP50", "precision", "recall", "thr", "CPU ms/img")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def result_rows(results: Sequence[ModelEvaluation]) -> list[tuple[str, ...]]:
    """One row per service and model, services grouped so models compare line by line."""
    rows: list[tuple[str, ...]] = []
    services = sorted({s["application_type"] for r in results for s in r.services})
    for service in services:
        for result in results:
            for score in result.services:
                if score["application_type"] != service:
                    continue
                rows.append(
                    (
                        service,
                        result.model,
                        _number(score["map50_95"]),
                        _number(score["map50"]),
                        _number(score["precision"]),
                        _number(score["recall"]),
                        f"{score['threshold']:g}",
                        f"{result.cpu_ms_per_image:.1f}",
                    )
                )
    return rows


def results_table(results: Sequence[ModelEvaluation]) -> str:
    rows = [COLUMNS, *result_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
