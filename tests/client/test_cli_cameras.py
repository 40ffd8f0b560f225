"""`ipcai cameras` and `ipcai watch --camera` against a real portal and worker: a tenant
creates a camera from the command line, masks half the frame, binds a key, and the frames it
watches come back filtered; another tenant's key sees none of it."""

from __future__ import annotations

import json

from tests.client.running_cli import json_lines, run_cli
from tests.client.videos import read_image, write_video

NO_SERVICE = "http://127.0.0.1:9"  # nothing listens: a call that reached it would fail

LEFT_HALF = [{"name": "street", "kind": "mask", "points": [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]}]


def test_a_camera_is_created_masked_bound_and_watched(ipcai, live_portal, images_dir, tmp_path):
    key = live_portal.create_tenant("cli-cameras", services=["persons-detection"])
    created = ipcai("cameras", "create", "driveway", "--threshold", "person=0.4", "--json", key=key)
    assert created.returncode == 0, created.stderr
    (camera,) = json_lines(created.stdout)
    assert camera["class_thresholds"] == {"person": 0.4}
    assert camera["services"] == ["persons-detection"]

    zones = tmp_path / "zones.json"
    zones.write_text(json.dumps(LEFT_HALF))
    assert ipcai("cameras", "zones", camera["id"], "--set", str(zones), key=key).returncode == 0
    shown = ipcai("cameras", "zones", camera["id"], key=key)
    assert shown.stdout.strip() == "street: mask, 4 points, all classes"

    listing = ipcai("cameras", key=key)
    assert camera["id"] in listing.stdout and "driveway" in listing.stdout

    clip = write_video(tmp_path / "persons.avi", [read_image(images_dir / "persons.jpg")] * 4, 2)
    plain = json_lines(ipcai("watch", str(clip), "--fps", "2", key=key).stdout)
    masked = json_lines(
        ipcai("watch", str(clip), "--fps", "2", "--camera", camera["id"], key=key).stdout
    )
    assert plain and masked
    assert 0 < masked[0]["counts"]["person"] < plain[0]["counts"]["person"]

    bound = ipcai("cameras", "bind", camera["id"], "--new-key", "recorder", key=key)
    assert bound.returncode == 0, bound.stderr
    bound_key = bound.stdout.strip()
    assert bound_key.startswith("ipcai_") and "only this once" in bound.stderr
    # The bound key's frames are the camera's without naming it.
    by_bound = json_lines(ipcai("watch", str(clip), "--fps", "2", key=bound_key).stdout)
    assert by_bound[0]["counts"] == masked[0]["counts"]
    shown = json_lines(ipcai("cameras", "show", camera["id"], "--json", key=key).stdout)[0]
    assert shown["keys"] == [bound_key.split("_")[1]]

    deleted = ipcai("cameras", "delete", camera["id"], key=key)
    assert deleted.returncode == 0
    assert json_lines(ipcai("cameras", "--json", key=key).stdout) == [{"cameras": []}]


def test_another_tenants_camera_is_not_found(ipcai, live_portal):
    owner = live_portal.create_tenant("cli-cameras-a", services=["persons-detection"])
    other = live_portal.create_tenant("cli-cameras-b", services=["persons-detection"])
    (camera,) = json_lines(ipcai("cameras", "create", "gate", "--json", key=owner).stdout)

    for args in (("show", camera["id"]), ("delete", camera["id"])):
        run = ipcai("cameras", *args, key=other)
        assert run.returncode == 1
        assert "camera_not_found" in run.stderr
    assert ipcai("cameras", "show", camera["id"], key=owner).returncode == 0


def test_a_bad_zone_file_names_the_field(ipcai, live_portal, tmp_path):
    key = live_portal.create_tenant("cli-cameras-bad", services=["persons-detection"])
    (camera,) = json_lines(ipcai("cameras", "create", "gate", "--json", key=key).stdout)
    zones = tmp_path / "zones.json"
    zones.write_text(json.dumps([{"name": "z", "points": [[0, 0], [1, 1]]}]))

    run = ipcai("cameras", "zones", camera["id"], "--set", str(zones), key=key)

    assert run.returncode == 1
    assert "zones[0].points" in run.stderr


def test_each_cameras_action_prints_its_own_help():
    create = run_cli(["cameras", "create", "--help"], NO_SERVICE, "unused")
    assert create.returncode == 0, create.stderr
    assert create.stdout.startswith("usage: ipcai cameras create")
    assert "--threshold CLASS=SCORE" in create.stdout
    assert "--clear" not in create.stdout  # an option of `zones`, not of create

    zones = run_cli(["cameras", "zones", "--help"], NO_SERVICE, "unused")
    assert zones.stdout.startswith("usage: ipcai cameras zones")
    assert "--clear" in zones.stdout and "--threshold" not in zones.stdout

    cameras = run_cli(["cameras", "--help"], NO_SERVICE, "unused")
    assert cameras.stdout.startswith("usage: ipcai cameras [-h]")
    for action in ("list", "create", "show", "zones", "bind", "unbind", "delete"):
        assert f"\n    {action} " in cameras.stdout


def test_options_given_before_the_action_still_count(live_portal):
    key = live_portal.create_tenant("cli-cameras-order", services=["persons-detection"])
    args = ["cameras", "--url", live_portal.base_url, "--json", "create", "porch"]
    run = run_cli(args, NO_SERVICE, key)
    assert run.returncode == 0, run.stderr
    (camera,) = json_lines(run.stdout)
    assert camera["name"] == "porch"
