"""Test-only helpers: fixtures, factories and assertions that no benchmark needs.

The process helpers moved to `harness/` (shared by tests and bench). Until tests/apps is
rewritten to import them from there (issue 22, after the apps move lands), the old module
names answer as aliases of the moved modules.
"""

import importlib
import sys

_MOVED = (
    "camera_frames",
    "celery_processes",
    "fault_stack",
    "images",
    "moto",
    "polling",
    "portal",
    "processes",
    "prometheus",
    "redis_server",
    "scripted_http",
    "webhook_receiver",
    "worker",
)
for _name in _MOVED:
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(f"harness.{_name}")
