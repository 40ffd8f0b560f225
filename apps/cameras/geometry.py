"""Polygons in normalised image coordinates: the point test the filter runs per box, and the
self-intersection check zone validation runs once per save.

Pure Python on purpose: a zone has at most MAX_ZONE_POINTS corners and a frame a handful of
boxes, so a bounding-box reject plus a crossing-number loop over precomputed edges costs a few
microseconds per box (docs/BENCHMARKS.md, Cameras), less than converting to numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Polygon:
    """A simple polygon ready for point tests: its bounding box and its non-horizontal edges
    as (x1, y1, y2, dx/dy), the only ones a horizontal ray can cross."""

    points: tuple[Point, ...]
    min_x: float
    min_y: float
    max_x: float
    max_y: float
    edges: tuple[tuple[float, float, float, float], ...]

    @classmethod
    def of(cls, points: list[list[float]] | tuple[Point, ...]) -> Polygon:
        pts = tuple((float(x), float(y)) for x, y in points)
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        edges = []
        for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1], strict=True):
            if y1 != y2:
                edges.append((x1, y1, y2, (x2 - x1) / (y2 - y1)))
        return cls(pts, min(xs), min(ys), max(xs), max(ys), tuple(edges))

    def contains(self, x: float, y: float) -> bool:
        """Crossing-number test; a point exactly on the bottom or right edge counts as outside
        (half-open, so two zones sharing an edge never both claim a point)."""
        if x < self.min_x or x > self.max_x or y < self.min_y or y > self.max_y:
            return False
        inside = False
        for x1, y1, y2, slope in self.edges:
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * slope:
                inside = not inside
        return inside


def _orientation(a: Point, b: Point, c: Point) -> int:
    cross = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    if abs(cross) < 1e-12:
        return 0
    return 1 if cross > 0 else -1


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def segments_intersect(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segments ab and cd share a point (touching and collinear overlap included)."""
    o1, o2, o3, o4 = (
        _orientation(a, b, c),
        _orientation(a, b, d),
        _orientation(c, d, a),
        (_orientation(c, d, b)),
    )
    if o1 != o2 and o3 != o4:
        return True
    return (
        (o1 == 0 and _on_segment(a, b, c))
        or (o2 == 0 and _on_segment(a, b, d))
        or (o3 == 0 and _on_segment(c, d, a))
        or (o4 == 0 and _on_segment(c, d, b))
    )


def first_self_intersection(points: list[Point]) -> tuple[int, int] | None:
    """The first pair of non-adjacent edges (by start index) that touch, else None. Edge i runs
    from point i to point i+1 (the last back to the first)."""
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue  # neighbours share a corner by construction
            if segments_intersect(*edges[i], *edges[j]):
                return i, j
    return None


def area(points: list[Point]) -> float:
    """The shoelace area (absolute), to refuse degenerate zones with no inside."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2.0
