"""`ipcai webhooks` against a real portal with Celery started on `make run`'s embedded defaults
(scripts/local-defaults.env): a receiver on 127.0.0.1 (port outside 80/443/8000-8999, as a
newcomer's :5000 is) is accepted, the test event arrives signed, the delivery log shows it. The
production defaults (the client tests' portal) refuse it and say what an operator sets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.portal import Portal, running_portal
from harness.processes import REPO_ROOT
from harness.webhook_receiver import running_receiver
from tests.client.running_cli import json_lines, run_cli


def local_defaults() -> dict[str, str]:
    """What scripts/run-local.sh exports from scripts/local-defaults.env."""
    lines = (REPO_ROOT / "scripts" / "local-defaults.env").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name: value for name, value in pairs}


@pytest.fixture(scope="module")
def local_portal(tmp_path_factory, live_worker_url) -> Iterator[tuple[Portal, str, Path]]:
    folder = tmp_path_factory.mktemp("webhooks-portal")
    with running_portal(folder, live_worker_url, celery=True, **local_defaults()) as portal:
        yield portal, portal.create_tenant("hooks", ["persons-detection"]), folder


def test_add_test_and_read_the_log_of_a_local_receiver_under_the_embedded_defaults(
    local_portal,
):
    portal, key, folder = local_portal
    with running_receiver(folder) as receiver:
        assert not 8000 <= receiver.port <= 8999 or receiver.port in (80, 443)
        added = run_cli(
            ["webhooks", "add", receiver.url, "--description", "my laptop"], portal.base_url, key
        )
        assert added.returncode == 0, added.stderr
        secret = added.stdout.strip()
        assert secret.startswith("whsec_") and "shown only this once" in added.stderr
        (endpoint,) = json_lines(run_cli(["webhooks", "--json"], portal.base_url, key).stdout)[0][
            "webhooks"
        ]
        assert endpoint["url"] == receiver.url and endpoint["enabled"]

        listing = run_cli(["webhooks"], portal.base_url, key)
        assert endpoint["id"] in listing.stdout and receiver.url in listing.stdout

        tested = run_cli(["webhooks", "test", endpoint["id"]], portal.base_url, key)
        assert tested.returncode == 0, tested.stderr
        assert "delivered: HTTP 200" in tested.stderr
        (received,) = receiver.wait_for(lambda got: len(got) == 1)
        assert b'"type": "test"' in received["body"] or b'"type":"test"' in received["body"]
        assert received["headers"]["webhook-signature"].startswith("v1,")

        log = run_cli(["webhooks", "deliveries", endpoint["id"]], portal.base_url, key)
        assert log.returncode == 0
        assert "test" in log.stdout and "succeeded" in log.stdout and "HTTP 200" in log.stdout


def test_a_failing_receiver_makes_the_test_exit_1_with_its_answer(local_portal):
    portal, key, _ = local_portal
    dead = "http://127.0.0.1:9/hook"  # nothing listens on the discard port
    added = run_cli(["webhooks", "add", dead, "--json"], portal.base_url, key)
    assert added.returncode == 0, added.stderr
    endpoint = json_lines(added.stdout)[0]["id"]
    tested = run_cli(["webhooks", "test", endpoint], portal.base_url, key)
    assert tested.returncode == 1
    assert "did not accept the test event" in tested.stderr


def test_production_defaults_refuse_a_local_receiver_and_name_the_setting(live_portal):
    key = live_portal.create_tenant("strict-hooks", ["persons-detection"])
    refused = run_cli(["webhooks", "add", "http://127.0.0.1:8080/hook"], live_portal.base_url, key)
    assert refused.returncode == 1
    assert "loopback or private address" in refused.stderr
    assert "IPCAI_WEBHOOK_ALLOW_PRIVATE=true" in refused.stderr
