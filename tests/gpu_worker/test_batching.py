"""The dynamic batcher, driven with a real thread pool and a lane function we control."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from gpu_worker.batching import DynamicBatcher, run_on_pool
from gpu_worker.errors import WorkerError
from gpu_worker.sharing import DeviceShare


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


def test_a_lone_request_on_an_idle_device_is_dispatched_at_once():
    """Nothing runs, so holding it for company would only leave the device idle: a 10 s
    max_wait must not delay it."""
    calls: list[list[int]] = []

    def lane(_, items):
        calls.append(items)
        return items

    async def scenario():
        with ThreadPoolExecutor(1) as pool:
            batcher = DynamicBatcher(
                ["lane"], lane, pool, max_batch=8, max_wait_s=10.0, max_queue=10
            )
            batcher.start()
            result = await asyncio.wait_for(batcher.submit(7), timeout=5)
            await batcher.close()
            return result

    value, info = run(scenario())
    assert value == 7 and info.size == 1
    assert calls == [[7]]


def test_while_a_batch_runs_arrivals_collect_and_go_when_the_device_is_free():
    """With a second lane free, requests arriving during a run wait for company (the device
    is busy), and leave as one batch the moment the run ends, not after max_wait (10 s)."""
    gate = GatedLane()

    async def scenario():
        with ThreadPoolExecutor(2) as pool:
            batcher = DynamicBatcher(
                ["a", "b"], gate.run, pool, max_batch=8, max_wait_s=10.0, max_queue=10
            )
            batcher.start()
            first = asyncio.create_task(batcher.submit(1))
            await asyncio.get_running_loop().run_in_executor(None, gate.first_started.wait, 10)
            rest = [asyncio.create_task(batcher.submit(i)) for i in (2, 3, 4)]
            while batcher.queue_depth < 3:
                await asyncio.sleep(0)
            assert gate.batches == [[1]]  # the free lane holds them while the device is busy
            gate.release.set()
            results = await asyncio.wait_for(asyncio.gather(first, *rest), timeout=5)
            await batcher.close()
            return results

    results = run(scenario())
    assert [value for value, _ in results] == [10, 20, 30, 40]
    assert gate.batches == [[1], [2, 3, 4]]


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


async def run_one_then_wait_for_a_slot(first_batcher, second_batcher, share, gate):
    """Submit 1 to the first batcher and hold its run at the gate, then 2 to the second, and
    return both tasks once the second waits for a device slot."""
    first = asyncio.create_task(first_batcher.submit(1))
    await asyncio.get_running_loop().run_in_executor(None, gate.first_started.wait, 10)
    second = asyncio.create_task(second_batcher.submit(2))
    while not share.waiting:
        await asyncio.sleep(0)
    return first, second


def test_two_models_on_one_core_take_turns():
    """Two batchers (two models) share a one-slot device: while one model's batch runs, the
    other's request waits for the slot instead of running beside it."""
    gate = GatedLane()
    ran: list[str] = []

    def other(_, items):
        ran.append("b")
        return items

    async def scenario():
        share = DeviceShare(1)
        with ThreadPoolExecutor(2) as pool_a, ThreadPoolExecutor(2) as pool_b:
            model_a = DynamicBatcher(["a1", "a2"], gate.run, pool_a, 1, 0.0, 10, share=share)
            model_b = DynamicBatcher(["b1", "b2"], other, pool_b, 1, 0.0, 10, share=share)
            model_a.start()
            model_b.start()
            first, second = await run_one_then_wait_for_a_slot(model_a, model_b, share, gate)
            assert ran == []  # model b waits for the core model a holds
            gate.release.set()
            results = await asyncio.wait_for(asyncio.gather(first, second), timeout=5)
            await model_a.close()
            await model_b.close()
            return results

    (a, _), (b, _) = run(scenario())
    assert (a, b) == (10, 2) and ran == ["b"]


def test_a_lone_request_gets_every_core_and_a_busy_device_one_each():
    lanes_used: list[str] = []
    gate = GatedLane()

    def lane(name, items):
        lanes_used.append(name)
        return gate.run(name, items)

    async def scenario():
        share = DeviceShare(2)
        with ThreadPoolExecutor(3) as pool:
            batcher = DynamicBatcher(
                ["n1", "n2"], lane, pool, 1, 0.0, 10, share=share, wide_lane="wide"
            )
            batcher.start()
            first = asyncio.create_task(batcher.submit(1))
            await asyncio.get_running_loop().run_in_executor(None, gate.first_started.wait, 10)
            rest = [asyncio.create_task(batcher.submit(i)) for i in (2, 3, 4)]
            while batcher.queue_depth + share.waiting < 3:
                await asyncio.sleep(0)
            gate.release.set()
            results = await asyncio.wait_for(asyncio.gather(first, *rest), timeout=5)
            await batcher.close()
            return results

    results = run(scenario())
    assert lanes_used[0] == "wide" and results[0][1].cores == 2
    # Behind the wide run, requests with others waiting run on one core each (the last one
    # may find the device idle again and get every core: either is right).
    assert sorted(lanes_used[1:3]) == ["n1", "n2"]
    assert [info.cores for _, info in results[1:3]] == [1, 1]


def test_a_lane_with_two_threads_takes_two_cores():
    """IPCAI_THREADS_PER_LANE=2 on two cores: two such lanes would oversubscribe, so the
    second run waits for the first."""
    gate = GatedLane()

    async def scenario():
        share = DeviceShare(2)
        with ThreadPoolExecutor(2) as pool:
            batcher = DynamicBatcher(
                ["a", "b"], gate.run, pool, 1, 0.0, 10, share=share, cores_per_run=2
            )
            batcher.start()
            first, second = await run_one_then_wait_for_a_slot(batcher, batcher, share, gate)
            assert gate.batches == [[1]]
            gate.release.set()
            results = await asyncio.wait_for(asyncio.gather(first, second), timeout=5)
            await batcher.close()
            return results

    (a, info_a), (b, info_b) = run(scenario())
    assert (a, b) == (10, 20) and info_a.cores == info_b.cores == 2


def test_work_handed_to_a_pool_returns_its_result_or_its_error_on_the_loop():
    def halve(value: int) -> float:
        if value < 0:
            raise WorkerError(400, "negative", "no negative numbers")
        return value / 2

    async def scenario():
        with ThreadPoolExecutor(2) as pool:
            assert await run_on_pool(pool, halve, 8) == 4
            with pytest.raises(WorkerError) as refused:
                await run_on_pool(pool, halve, -1)
            return refused.value.code, threading.current_thread() is threading.main_thread()

    assert run(scenario()) == ("negative", True)


def test_a_caller_that_went_away_does_not_break_the_pool_hand_off():
    release = threading.Event()

    def slow(value: int) -> int:
        release.wait(10)
        return value

    async def scenario():
        with ThreadPoolExecutor(1) as pool:
            abandoned = run_on_pool(pool, slow, 1)
            abandoned.cancel()  # the request's task was cancelled (client gone)
            release.set()
            return await run_on_pool(pool, slow, 2)  # the pool and loop still work

    assert run(scenario()) == 2
