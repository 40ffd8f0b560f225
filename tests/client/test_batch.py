"""Input expansion, output naming and the summary table of `ipcai detect`."""

from __future__ import annotations

from pathlib import Path

import pytest
from ipcai.batch import ImageOutcome, InputError, annotated_paths, expand_inputs, summary_table
from ipcai.errors import BadRequest, NetworkError
from ipcai.images import ImageError
from ipcai.models import Box, Detection, DetectionResult


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in ("a.jpg", "b.PNG", "notes.txt", "sub/c.jpeg", "sub/deeper/d.webp"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return tmp_path


def test_folders_give_their_images_sorted_and_recursion_is_opt_in(tree):
    assert expand_inputs([str(tree)]) == [tree / "a.jpg", tree / "b.PNG"]
    assert expand_inputs([str(tree)], recursive=True) == [
        tree / "a.jpg",
        tree / "b.PNG",
        tree / "sub/c.jpeg",
        tree / "sub/deeper/d.webp",
    ]


def test_globs_are_expanded_and_each_file_is_taken_once(tree):
    found = expand_inputs([str(tree / "**" / "*.jp*g"), str(tree / "a.jpg")])
    assert found == [tree / "a.jpg", tree / "sub/c.jpeg"]


def test_an_argument_matching_nothing_is_an_error(tree):
    with pytest.raises(InputError, match="no such file"):
        expand_inputs([str(tree / "missing.jpg")])
    with pytest.raises(InputError, match="no file matches"):
        expand_inputs([str(tree / "*.gif")])


def test_annotated_names_stay_unique_across_folders():
    inputs = [Path("cam1/snap.jpg"), Path("cam2/snap.jpg"), Path("x/frame.png"), Path("y.bmp")]
    targets = annotated_paths(inputs, Path("out"))
    assert [str(targets[p]) for p in inputs] == [
        "out/snap.jpg",
        "out/snap-2.jpg",
        "out/frame.png",
        "out/y.jpg",
    ]


def test_summary_lists_objects_per_class_latency_and_failures():
    result = DetectionResult(
        service="pets-detection",
        width=10,
        height=10,
        detections=tuple(Detection(label, 0.9, Box(0, 0, 1, 1)) for label in ("dog",) * 3),
    )
    outcomes = [
        ImageOutcome(Path("pets.jpg"), 0.25, result=result),
        ImageOutcome(Path("broken.jpg"), 0.01, error=BadRequest(400, "not_an_image", "no")),
    ]
    table = summary_table(outcomes).splitlines()
    assert table[0].split() == ["image", "objects", "latency"]
    assert table[1].split() == ["pets.jpg", "3", "dog", "250", "ms"]
    assert table[2].split() == ["broken.jpg", "error:", "not_an_image", "10", "ms"]
    assert table[3] == "2 images, 1 ok, 1 failed, 3 objects; latency median 250 ms, max 250 ms"


def test_summary_names_what_failed_and_counts_in_english():
    result = DetectionResult(
        service="pets-detection",
        width=10,
        height=10,
        detections=(Detection("dog", 0.9, Box(0, 0, 1, 1)),),
    )
    one = summary_table([ImageOutcome(Path("pets.jpg"), 0.1, result=result)]).splitlines()
    assert one[-1].startswith("1 image, 1 ok, 0 failed, 1 object;")

    failures = [
        ImageOutcome(Path("down.jpg"), 0.1, error=NetworkError("connection refused")),
        ImageOutcome(Path("notes.bmp"), 0.1, error=ImageError("not an image")),
    ]
    table = summary_table(failures).splitlines()
    assert table[1].split()[:3] == ["down.jpg", "error:", "network_error"]
    assert table[2].split()[:3] == ["notes.bmp", "error:", "unreadable_image"]
    assert table[3] == "2 images, 0 ok, 2 failed, 0 objects"
    # The JSON line of a failed image carries the same code as the summary.
    assert failures[0].to_json()["error"] == {
        "code": "network_error",
        "message": "connection refused",
    }
