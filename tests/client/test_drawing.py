"""Boxes drawn where the detections are, in the label's colour, on a copy of the image."""

from __future__ import annotations

import io

from ipcai.drawing import draw_detections, label_color
from ipcai.models import Box, Detection, DetectionResult
from PIL import Image

BLACK = (0, 0, 0)


def test_box_outline_is_drawn_in_the_label_colour_and_the_inside_is_untouched():
    image = Image.new("RGB", (400, 300), BLACK)
    dog = Detection("dog", 0.87, Box(100, 120, 300, 280))
    annotated = draw_detections(image, [dog])

    color = label_color("dog")
    assert annotated.getpixel((100, 200)) == color  # left edge
    assert annotated.getpixel((299, 200)) == color  # right edge
    assert annotated.getpixel((200, 279)) == color  # bottom edge
    assert annotated.getpixel((200, 200)) == BLACK  # inside
    assert annotated.getpixel((50, 50)) == BLACK  # elsewhere
    assert annotated.getpixel((105, 110)) == color  # the label tag above the box
    assert image.getpixel((100, 200)) == BLACK  # the input is not modified


def test_a_box_at_the_top_edge_gets_its_tag_inside():
    annotated = draw_detections(
        Image.new("RGB", (400, 300), BLACK), [Detection("car", 0.5, Box(50, 0, 350, 200))]
    )
    assert annotated.getpixel((55, 8)) == label_color("car")


def test_colours_are_stable_per_label():
    assert label_color("person") == label_color("person")
    assert len({label_color(label) for label in ("person", "dog", "cat", "car")}) > 1


def test_boxes_follow_exif_rotation_when_the_service_measured_the_rotated_image():
    # Stored 100x200 with orientation 6 (rotate 90°): viewers and the service see 200x100.
    stored = Image.new("RGB", (100, 200), BLACK)
    exif = stored.getexif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", exif=exif)
    result = DetectionResult(
        service="persons-detection",
        width=200,
        height=100,
        detections=(Detection("person", 0.9, Box(150, 10, 190, 90)),),
    )
    annotated = draw_detections(buffer.getvalue(), result)
    assert annotated.size == (200, 100)
    assert annotated.getpixel((150, 50)) == label_color("person")
