"""Polygon point tests and the self-intersection check behind zone validation."""

from __future__ import annotations

from apps.cameras.geometry import Polygon, area, first_self_intersection, segments_intersect

SQUARE = [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)]
# A "U": the notch between the arms is outside although it is inside the bounding box.
U_SHAPE = [
    (0.1, 0.1),
    (0.3, 0.1),
    (0.3, 0.7),
    (0.7, 0.7),
    (0.7, 0.1),
    (0.9, 0.1),
    (0.9, 0.9),
    (0.1, 0.9),
]


def test_a_square_contains_its_inside_and_not_its_outside():
    square = Polygon.of(SQUARE)
    assert square.contains(0.5, 0.5)
    assert square.contains(0.21, 0.79)
    assert not square.contains(0.1, 0.5)
    assert not square.contains(0.5, 0.9)


def test_a_concave_zone_excludes_its_notch():
    u = Polygon.of(U_SHAPE)
    assert u.contains(0.2, 0.5)  # left arm
    assert u.contains(0.8, 0.5)  # right arm
    assert u.contains(0.5, 0.8)  # the base
    assert not u.contains(0.5, 0.4)  # the notch


def test_two_zones_sharing_an_edge_never_both_claim_a_point():
    left = Polygon.of([(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)])
    right = Polygon.of([(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)])
    for y in (0.1, 0.5, 0.9):
        assert left.contains(0.5, y) + right.contains(0.5, y) == 1


def test_crossing_and_touching_segments():
    assert segments_intersect((0, 0), (1, 1), (0, 1), (1, 0))
    assert segments_intersect((0, 0), (1, 0), (0.5, 0), (2, 0))  # collinear overlap
    assert not segments_intersect((0, 0), (1, 0), (0, 1), (1, 1))


def test_a_bow_tie_crosses_itself_and_a_square_does_not():
    assert first_self_intersection([(0, 0), (1, 1), (1, 0), (0, 1)]) == (0, 2)
    assert first_self_intersection(SQUARE) is None
    assert first_self_intersection(U_SHAPE) is None


def test_area():
    assert abs(area(SQUARE) - 0.36) < 1e-9
    assert area([(0, 0), (0.5, 0.5), (1, 1)]) == 0
