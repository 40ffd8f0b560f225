"""analysis.inferred, the overlap of a chunk's decoding and inference: batches come back in
order, two are at the worker at once (the first is still running when the second is sent), never
more than `depth`, and a worker error comes out of the batch that met it."""

from __future__ import annotations

import threading

import pytest

from apps.alerts.video_jobs.analysis import inferred


class Worker:
    """Answers a batch with its items; batch 0 waits until batch 1 has arrived."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.second_arrived = threading.Event()
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.fail_on = fail_on

    def run(self, batch: list[int]) -> list[dict]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            if batch[0] == 1:
                self.second_arrived.set()
            if batch[0] == 0:
                assert self.second_arrived.wait(10), "batch 1 was not sent while 0 ran"
            if batch[0] == self.fail_on:
                raise RuntimeError("worker_unavailable")
            return [{"frame": item} for item in batch]
        finally:
            with self.lock:
                self.running -= 1


def test_batches_overlap_and_come_back_in_order():
    worker = Worker()
    batches = [[n, n + 100] for n in range(6)]
    answered = list(inferred(iter(batches), worker.run, 2))
    assert [batch for batch, _ in answered] == batches
    assert [answers for _, answers in answered] == [
        [{"frame": n}, {"frame": n + 100}] for n in range(6)
    ]
    assert worker.most == 2


def test_a_worker_error_comes_out_of_its_batch():
    worker = Worker(fail_on=3)
    seen: list[int] = []
    with pytest.raises(RuntimeError, match="worker_unavailable"):
        for batch, _ in inferred(iter([[n] for n in range(6)]), worker.run, 2):
            seen.append(batch[0])
    assert seen == [0, 1, 2]
