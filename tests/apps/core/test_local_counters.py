"""Per-process fixed windows, the stand-in for Redis's counters while it is down."""

from __future__ import annotations

from apps.core.local_counters import WindowCounters
from harness.polling import eventually


def test_a_window_counts_until_it_ends_then_starts_again():
    counters = WindowCounters()
    assert [counters.add("key", 0.5)[0] for _ in range(3)] == [1, 2, 3]
    count, ends_in = counters.get("key")
    assert count == 3 and 0 < ends_in <= 0.5
    eventually(lambda: counters.get("key") == (0, 0.0), 5, "the window to end")
    assert counters.add("key", 0.5)[0] == 1


def test_a_flood_of_subjects_is_bounded():
    counters = WindowCounters(max_subjects=100)
    for n in range(1000):
        counters.add(f"made-up-{n}", 60)
    assert len(counters.pop_all()) <= 100
    assert counters.pop_all() == {}  # handed over: nothing left
