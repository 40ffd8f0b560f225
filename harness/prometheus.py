"""Reading Prometheus text exposition in tests."""

from __future__ import annotations

import re


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` that carry these labels, whatever other labels they
    have (0 when none): `metric(text, "ipcai_worker_requests_total", status="200")` counts
    every model's and type's 200s, as a Prometheus `sum` would."""
    wanted = {f'{k}="{v}"' for k, v in labels.items()}
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = set(match.group(2).split(",")) if match.group(2) else set()
        if wanted <= found:
            total += float(match.group(3))
    return total
