"""Frame pacing of `ipcai watch` (the parts that need no service; the rest runs against a
real portal in test_cli_watch.py)."""

from __future__ import annotations

from ipcai.watch import RateGate


def passed(gate: RateGate, times: list[float]) -> list[float]:
    return [t for t in times if gate.due(t)]


def test_half_the_frame_rate_keeps_every_other_frame():
    times = [i * 0.25 for i in range(12)]  # 4 fps
    assert passed(RateGate(2), times) == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def test_a_rate_above_the_frame_rate_keeps_every_frame():
    times = [i * 0.25 for i in range(8)]
    assert passed(RateGate(10), times) == times


def test_uneven_frame_times_keep_the_schedule_without_drift():
    # 25 fps frames (0.04 s apart) at 2 fps: one frame per half second, the first at or after
    # each slot, never sliding later and later.
    times = [round(i * 0.04, 2) for i in range(76)]
    assert passed(RateGate(2), times) == [0.0, 0.52, 1.0, 1.52, 2.0, 2.52, 3.0]


def test_after_a_gap_the_next_frame_passes_and_missed_slots_are_not_made_up():
    gate = RateGate(1)
    assert passed(gate, [0.0, 0.5, 5.2, 5.3, 5.9, 6.0, 6.1]) == [0.0, 5.2, 6.0]
