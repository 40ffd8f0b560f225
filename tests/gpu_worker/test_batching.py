"""The dynamic batcher, driven with a real thread pool and a lane function we control."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from gpu_worker.batching import DynamicBatcher
from gpu_worker.errors import WorkerError


class GatedLane:
    """A lane that records each batch and holds the first one until released."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.first_started = threading.Event()
        self.release = threading.Event()

    def run(self, lane, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.first_started.set()
            self.release.wait(10)
        return [item * 10 for item in items]


def run(coro):
    return asyncio.run(coro)


def test_requests_queued_while_the_lane_is_busy_form_one_batch():
    gate = GatedLane()

    async def scenario():
        with ThreadPoolExecutor(1) as pool:
            batcher = DynamicBatcher(
                ["lane"], gate.run, pool, max_batch=4, max_wait_s=0, max_queue=10
            )
            batcher.start()
            first = asyncio.create_task(batcher.submit(1))
            await asyncio.get_running_loop().run_in_executor(None, gate.first_started.wait, 10)
            rest = [asyncio.create_task(batcher.submit(i)) for i in (2, 3, 4, 5, 6)]
            while batcher.queue_depth < 5:
                await asyncio.sleep(0)
            gate.release.set()
            results = await asyncio.gather(first, *rest)
            await batcher.close()
            return results

    results = run(scenario())
    assert [value for value, _ in results] == [10, 20, 30, 40, 50, 60]
    assert gate.batches == [[1], [2, 3, 4, 5], [6]]
    sizes = [info.size for _, info in results]
    assert sizes == [1, 4, 4, 4, 4, 1]


def test_full_queue_refuses_with_503_and_retry_after():
    gate = GatedLane()

    async def scenario():
        with ThreadPoolExecutor(1) as pool:
            batcher = DynamicBatcher(
                ["lane"], gate.run, pool, max_batch=1, max_wait_s=0, max_queue=2
            )
            batcher.start()
            first = asyncio.create_task(batcher.submit(1))
            await asyncio.get_running_loop().run_in_executor(None, gate.first_started.wait, 10)
            queued = [asyncio.create_task(batcher.submit(i)) for i in (2, 3)]
            while batcher.queue_depth < 2:
                await asyncio.sleep(0)
            with pytest.raises(WorkerError) as refused:
                await batcher.submit(4)
            gate.release.set()
            done = await asyncio.gather(first, *queued)
            await batcher.close()
            return refused.value, done

    error, done = run(scenario())
    assert error.status == 503 and error.headers["Retry-After"] == "1"
    assert [value for value, _ in done] == [10, 20, 30]


def test_a_lone_request_waits_at_most_max_wait_for_company():
    calls: list[list[int]] = []

    def lane(_, items):
        calls.append(items)
        return items

    async def scenario():
        with ThreadPoolExecutor(1) as pool:
            batcher = DynamicBatcher(
                ["lane"], lane, pool, max_batch=8, max_wait_s=0.05, max_queue=10
            )
            batcher.start()
            result = await asyncio.wait_for(batcher.submit(7), timeout=5)
            await batcher.close()
            return result

    value, info = run(scenario())
    assert value == 7 and info.size == 1
    assert info.queue_s >= 0.05  # held for company, then sent alone
    assert calls == [[7]]


def test_a_failing_batch_fails_its_requests_and_frees_the_lane():
    def lane(_, items):
        if items == [1]:
            raise RuntimeError("device lost")
        return items

    async def scenario():
        with ThreadPoolExecutor(1) as pool:
            batcher = DynamicBatcher(["lane"], lane, pool, max_batch=1, max_wait_s=0, max_queue=10)
            batcher.start()
            with pytest.raises(RuntimeError):
                await batcher.submit(1)
            value, _ = await batcher.submit(2)
            await batcher.close()
            return value

    assert run(scenario()) == 2


def test_closed_batcher_refuses_new_work():
    async def scenario():
        with ThreadPoolExecutor(1) as pool:
            batcher = DynamicBatcher(
                ["lane"], lambda _, i: i, pool, max_batch=1, max_wait_s=0, max_queue=1
            )
            batcher.start()
            await batcher.close()
            with pytest.raises(WorkerError) as refused:
                await batcher.submit(1)
            return refused.value

    assert run(scenario()).code == "shutting_down"
