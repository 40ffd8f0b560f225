"""Two usage drains started at the same moment store each request once (two beats during a
deploy, or `manage.py drain_usage` beside the periodic drain).

Real processes on a fresh database (PostgreSQL when the suite runs on it, where two
transactions really interleave; SQLite serialises them): every request is queued twice, its
two copies side by side (Redis took the RPUSH and died before answering, so the portal spooled
it too), and each drain takes one event per batch, so the two drains hold the two copies of a
request at the same time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from harness.portal import Portal, running_portal

pytestmark = [pytest.mark.slow, pytest.mark.postgres]  # the race is the database's

REQUESTS = 150
COUNT = (
    "import json; from django.db.models import Sum; "
    "from apps.usage.models import DailyUsage, UsageEvent; "
    "rows = UsageEvent.objects.filter(tenant__slug='twice'); "
    "print(json.dumps({'rows': rows.count(), "
    "'requests': rows.values('request_id').distinct().count(), "
    "'calls': DailyUsage.objects.filter(tenant__slug='twice').aggregate(c=Sum('calls'))['c']}))"
)


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Iterator[Portal]:
    # No inference here: the drains only need the portal's database and Redis.
    with running_portal(tmp_path_factory.mktemp("drains"), "http://127.0.0.1:9") as running:
        yield running


def test_two_drains_at_the_same_moment_store_each_request_once(portal):
    portal.create_tenant("twice")
    tenant_id = int(
        portal.manage(
            "shell", "-c", "from apps.tenants.models import Tenant; "
            "print(Tenant.objects.get(slug='twice').pk)"
        ).split()[-1]
    )  # fmt: skip
    queue = f"{portal.env['IPCAI_REDIS_PREFIX']}usage:queue"
    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    for _ in range(REQUESTS):
        event = json.dumps(
            {
                "request_id": uuid.uuid4().hex,
                "timestamp": time.time(),
                "endpoint": "native",
                "status_code": 200,
                "latency_ms": 12.0,
                "tenant_id": tenant_id,
                "api_key_id": None,
                "application_type": "persons-detection",
                "error_code": "",
                "objects": 1,
                "image_bytes": 1000,
            }
        )
        r.rpush(queue, event, event)

    env = {**os.environ, **portal.env, "IPCAI_USAGE_DRAIN_BATCH": "1"}
    drains = [
        subprocess.Popen(
            [sys.executable, "manage.py", "drain_usage"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [drain.communicate(timeout=300)[0] for drain in drains]
    assert [drain.returncode for drain in drains] == [0, 0], outputs
    assert r.llen(queue) == 0

    stored = json.loads(portal.manage("shell", "-c", COUNT).splitlines()[-1])
    assert stored == {"rows": REQUESTS, "requests": REQUESTS, "calls": REQUESTS}
