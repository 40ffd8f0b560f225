"""`ipcai detect` against a real portal and worker, run as its own process with its output
going to pipes, as in a script or a cron job."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image, ImageChops

from tests.client.running_cli import json_lines, paths_of
from tests.gpu_worker.test_detector_slicing import distant_persons_frame

VEHICLE_LABELS = {"bicycle", "car", "motorcycle", "bus", "train", "truck"}


def test_pets_image_has_three_dogs(ipcai, images_dir):
    run = ipcai("detect", str(images_dir / "pets.jpg"), "--service", "pets-detection")

    assert run.returncode == 0, run.stderr
    (record,) = json_lines(run.stdout)
    assert record["counts"] == {"dog": 3}
    assert record["service"] == "pets-detection"
    assert (record["width"], record["height"]) == Image.open(images_dir / "pets.jpg").size
    for detection in record["detections"]:
        x1, y1, x2, y2 = detection["box"]
        assert 0 <= x1 < x2 <= record["width"] and 0 <= y1 < y2 <= record["height"]
        assert 0.3 <= detection["score"] <= 1


def test_persons_and_vehicles_images_give_only_their_services_classes(ipcai, images_dir):
    persons = ipcai("detect", str(images_dir / "persons.jpg"), "--service", "persons-detection")
    vehicles = ipcai("detect", str(images_dir / "vehicles.jpg"), "--service", "vehicles-detection")

    assert persons.returncode == vehicles.returncode == 0
    (people,) = json_lines(persons.stdout)
    assert set(people["counts"]) == {"person"}
    assert people["counts"]["person"] >= 4  # five pedestrians in the picture
    (traffic,) = json_lines(vehicles.stdout)
    assert set(traffic["counts"]) <= VEHICLE_LABELS
    assert traffic["counts"].get("bus", 0) >= 2
    assert traffic["counts"].get("car", 0) >= 2


def test_slices_auto_finds_the_distant_people_and_prints_the_slices(ipcai, tmp_path):
    frame = tmp_path / "distant.jpg"
    frame.write_bytes(distant_persons_frame())
    plain = ipcai("detect", str(frame), "--service", "persons-detection")
    sliced = ipcai("detect", str(frame), "--service", "persons-detection", "--slices", "auto")
    wrong = ipcai("detect", str(frame), "--slices", "sometimes")

    assert plain.returncode == sliced.returncode == 0, sliced.stderr
    ((whole,), (record,)) = json_lines(plain.stdout), json_lines(sliced.stdout)
    assert "slices" not in whole
    assert record["slices"]["requested"] == "auto" and record["slices"]["planned"] >= 2
    assert record["slices"]["count"] >= 1  # a CPU worker runs those holding a candidate
    assert record["counts"].get("person", 0) > whole["counts"].get("person", 0)
    assert wrong.returncode == 2 and "--slices" in wrong.stderr


def test_a_folder_run_writes_annotated_images_and_a_summary_without_progress_bar(
    ipcai, images_dir, tmp_path
):
    folder = tmp_path / "snapshots"
    folder.mkdir()
    for name in ("persons.jpg", "pets.jpg", "vehicles.jpg"):
        shutil.copy(images_dir / name, folder / name)
    (folder / "README.txt").write_text("not an image")
    out = tmp_path / "annotated"

    run = ipcai("detect", str(folder), "--service", "pets-detection", "--out", str(out), "-j", "2")

    assert run.returncode == 0, run.stderr
    records = json_lines(run.stdout)
    assert paths_of(records) == ["persons.jpg", "pets.jpg", "vehicles.jpg"]
    assert [r["counts"].get("dog", 0) for r in records][1] == 3
    assert all(set(r["counts"]) <= {"cat", "dog"} for r in records)
    # The progress bar is off when stderr is not a terminal: no carriage returns, no bar.
    assert "\r" not in run.stderr
    assert "img/s" not in run.stderr and "%|" not in run.stderr
    summary = run.stderr.strip().splitlines()
    assert summary[0].split() == ["image", "objects", "latency"]
    assert [line.split()[0] for line in summary[1:4]] == [
        str(folder / n)
        for n in (
            "persons.jpg",
            "pets.jpg",
            "vehicles.jpg",
        )
    ]
    assert "3 dog" in summary[2]
    assert summary[4].startswith("3 images, 3 ok, 0 failed, ")
    for record in records:
        annotated = Image.open(record["annotated"])
        original = Image.open(folder / record["image"].rsplit("/", 1)[1])
        assert annotated.size == original.size
    pets = Image.open(out / "pets.jpg").convert("RGB")
    plain = Image.open(folder / "pets.jpg").convert("RGB")
    assert ImageChops.difference(pets, plain).getbbox() is not None  # boxes were drawn


def test_a_broken_image_fails_alone_and_the_exit_status_says_so(ipcai, images_dir, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((images_dir / "pets.jpg").read_bytes()[:300])  # a truncated JPEG

    run = ipcai("detect", str(images_dir / "pets.jpg"), str(broken), "--service", "pets-detection")

    assert run.returncode == 1
    good, bad = json_lines(run.stdout)
    assert good["counts"] == {"dog": 3}
    assert bad["error"]["status"] == 400
    assert bad["error"]["message"]
    assert "2 images, 1 ok, 1 failed" in run.stderr


@pytest.mark.parametrize(
    ("wrong_key", "expected"), [(True, "invalid_api_key"), (False, "service_not_enabled")]
)
def test_a_wrong_key_or_a_service_not_enabled_stops_the_run_with_the_reason(
    ipcai, live_portal, images_dir, wrong_key, expected
):
    if wrong_key:
        key = "ipcai_000000000000_wrong"
    else:
        key = live_portal.create_tenant("pets-only", services=["pets-detection"])

    run = ipcai("detect", str(images_dir), "--service", "persons-detection", key=key)

    assert run.returncode == 1
    assert run.stdout == ""
    assert expected in run.stderr
    assert "Traceback" not in run.stderr


def test_no_key_and_missing_files_are_usage_errors(ipcai, images_dir, tmp_path):
    missing = ipcai("detect", str(tmp_path / "nothing-here.jpg"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
    no_key = ipcai("detect", str(images_dir / "pets.jpg"), key=" ")
    assert no_key.returncode == 2
    # A command-line user is told the variable and the option, not Python's `api_key=`.
    assert "set IPCAI_API_KEY (or pass --api-key KEY" in no_key.stderr


def test_the_progress_bar_can_be_forced_on_for_a_log_file(ipcai, images_dir):
    run = ipcai("detect", str(images_dir), "--progress", "--no-summary", "-j", "3")

    assert run.returncode == 0
    assert len(json_lines(run.stdout)) == 3
    assert "3/3" in run.stderr
