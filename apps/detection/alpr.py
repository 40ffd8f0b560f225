"""CodeProject.AI's licence plate answer (its ALPR module, `/v1/vision/alpr` and the legacy
`/v1/image/alpr` that Blue Iris calls), built from a license-plates worker answer.

The module's fields (codeproject/CodeProject.AI-ALPR, ALPR.py and ALPR_adapter.py): one
prediction per read plate, `{"confidence", "label": "Plate: <text>", "plate": "<text>",
"x_min", "y_min", "x_max", "y_max"}` with the plate's box (not the vehicle's), and a
`message` of "Found Plate: ..." or "No plates found"; the server adds the same fields as
to every module's answer (apps/detection/codeproject.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NO_PLATES = "No plates found"


def alpr_predictions(result: Mapping[str, Any]) -> list[dict]:
    """One prediction per vehicle whose plate was read, in the worker's order, then the
    plates read in a frame with no vehicle detected (a close-up of a plate): the module
    answers plates, wherever in the image they are."""
    predictions = []
    for plate in [*(result.get("plates") or []), *(result.get("frame_plates") or [])]:
        if not plate:
            continue
        x1, y1, x2, y2 = plate["box"]
        predictions.append(
            {
                "confidence": plate["score"],
                "label": f"Plate: {plate['text']}",
                "plate": plate["text"],
                "x_min": round(x1),
                "y_min": round(y1),
                "x_max": round(x2),
                "y_max": round(y2),
            }
        )
    return predictions


def alpr_message(predictions: list[dict]) -> str:
    """The module's summary: the first three labels, "..." beyond, or "No plates found"."""
    if not predictions:
        return NO_PLATES
    labels = [p["label"] for p in predictions]
    return "Found " + ", ".join(labels[:3]) + ("..." if len(labels) > 3 else "")
