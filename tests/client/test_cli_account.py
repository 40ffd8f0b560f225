"""`ipcai keys` and `ipcai usage` against a real portal: a tenant rotates its key and reads
its own usage, nobody else's."""

from __future__ import annotations

import httpx

from tests.client.running_cli import json_lines, run_cli


def test_a_key_is_rotated_from_the_command_line(ipcai, live_portal):
    old_key = live_portal.create_tenant("key-rotation", services=["persons-detection"])
    (listing,) = json_lines(ipcai("keys", "--json", key=old_key).stdout)
    (old,) = listing["keys"]
    assert old["current"] and old["active"]

    created = ipcai(
        "keys",
        "create",
        "--name",
        "cam-2",
        "--expires-in-days",
        "30",
        "--scope",
        "detect",
        "--scope",
        "manage",
        key=old_key,
    )
    assert created.returncode == 0, created.stderr
    new_key = created.stdout.strip()
    assert new_key.startswith("ipcai_")
    assert "shown only this once" in created.stderr

    table = ipcai("keys", key=new_key)
    assert table.returncode == 0
    rows = {line.split()[0]: line for line in table.stdout.splitlines()[1:-1]}
    assert set(rows) == {old["id"], new_key.split("_")[1]}
    assert "cam-2" in rows[new_key.split("_")[1]]
    assert "detect,manage" in rows[new_key.split("_")[1]].split()
    assert "detect,events:read,manage" in rows[old["id"]].split()  # the tenant's first key
    assert new_key not in table.stdout  # listings never show a secret

    revoked = ipcai("keys", "revoke", old["prefix"], key=new_key)
    assert revoked.returncode == 0, revoked.stderr
    refused = ipcai("keys", key=old_key)
    assert refused.returncode == 1
    assert "revoked_api_key" in refused.stderr


def test_revoking_another_tenants_key_is_refused(ipcai, live_portal, api_key):
    other = live_portal.create_tenant("someone-else", services=["persons-detection"])
    other_id = other.split("_")[1]

    run = ipcai("keys", "revoke", other_id, key=api_key)

    assert run.returncode == 1
    assert "key_not_found" in run.stderr
    assert ipcai("keys", key=other).returncode == 0  # still works


def test_usage_shows_the_tenants_own_requests(ipcai, live_portal, images_dir):
    key = live_portal.create_tenant("usage-counting", services=["pets-detection"])
    images = [str(images_dir / "pets.jpg"), str(images_dir / "persons.jpg")]
    assert ipcai("detect", *images, "--service", "pets-detection", key=key).returncode == 0
    live_portal.drain_usage()

    (usage,) = json_lines(ipcai("usage", "--json", key=key).stdout)
    table = ipcai("usage", "--days", "7", key=key)

    days = [
        (d["application_type"], d["requests"], d["successes"], d["objects"]) for d in usage["days"]
    ]
    assert days == [("pets-detection", 2, 2, 3)]
    assert usage["quota"]["used_this_month"] == 2
    assert table.returncode == 0
    assert table.stdout.splitlines()[1].split()[1:6] == ["pets-detection", "2", "2", "0", "3"]
    assert "this month: 2 of unlimited" in table.stdout


def test_usage_counts_a_deepstack_call_once_and_under_each_service(ipcai, live_portal, images_dir):
    services = ["persons-detection", "pets-detection", "vehicles-detection"]
    key = live_portal.create_tenant("usage-deepstack", services=services)
    with (images_dir / "pets.jpg").open("rb") as image:
        deepstack = httpx.post(
            f"{live_portal.base_url}/v1/vision/detection",
            files={"image": ("pets.jpg", image, "image/jpeg")},
            headers={"x-api-key": key},
            timeout=60,
        )
    assert deepstack.status_code == 200
    detect = ipcai("detect", str(images_dir / "pets.jpg"), "--service", "pets-detection", key=key)
    assert detect.returncode == 0
    live_portal.drain_usage()

    (usage,) = json_lines(ipcai("usage", "--json", key=key).stdout)
    table = ipcai("usage", key=key).stdout

    answered = {d["application_type"]: d["requests"] for d in usage["days"]}
    assert answered == {"persons-detection": 1, "pets-detection": 2, "vehicles-detection": 1}
    assert usage["totals"]["requests"] == 2 == usage["quota"]["used_this_month"]
    assert "2 requests in 1 active day\n" in table
    assert "once in the total" in table
    assert "this month: 2 of unlimited" in table


def test_a_new_key_detects_only_and_says_so(ipcai, live_portal):
    owner = live_portal.create_tenant("scoped-cli", services=["persons-detection"])
    created = ipcai("keys", "create", "--name", "camera", key=owner)
    assert created.returncode == 0, created.stderr
    camera_key = created.stdout.strip()
    (listing,) = json_lines(ipcai("keys", "--json", key=owner).stdout)
    assert {k["name"]: k["scopes"] for k in listing["keys"]}["camera"] == ["detect"]
    refused = ipcai("keys", key=camera_key)
    assert refused.returncode == 1
    assert "insufficient_scope" in refused.stderr
    wider = ipcai("keys", "create", "--scope", "manage", key=camera_key)
    assert wider.returncode == 1


def test_each_keys_action_prints_its_own_help():
    create = run_cli(["keys", "create", "--help"], "http://127.0.0.1:9", "unused")
    assert create.returncode == 0, create.stderr
    assert create.stdout.startswith("usage: ipcai keys create")
    assert "--scope {detect,events:read,manage}" in create.stdout

    revoke = run_cli(["keys", "revoke", "--help"], "http://127.0.0.1:9", "unused")
    assert revoke.stdout.startswith("usage: ipcai keys revoke")
    assert "KEY_ID" in revoke.stdout and "--scope" not in revoke.stdout
