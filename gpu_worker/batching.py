"""Dynamic batching: coalesce concurrent requests into batches for a pool of inference lanes.

Modelled on Ray Serve's @batch and Triton's dynamic batcher, with one difference: a batch waits
for company only while the device is busy. When nothing runs on it, a request is dispatched at
once (waiting would only add latency: the device would sit idle meanwhile); while a batch runs,
a free lane collects what arrives, up to max_batch or max_wait, or until the device goes idle.
The device being busy is what makes batches worth forming, and under load they fill by
themselves. The queue is bounded: beyond max_queue the caller gets 503 + Retry-After at once,
instead of a latency that grows without limit.

The device is shared (sharing.py): several models' batchers draw on the same cores or GPU, and
on a CPU a lone request on an idle machine may run on the `wide` lane, a session that uses
every core.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from gpu_worker.errors import WorkerError, overloaded
from gpu_worker.sharing import DeviceShare

Lane = TypeVar("Lane")
RunBatch = Callable[[Any, list[Any]], list[Any]]


def run_on_pool(executor: Executor, function: Callable[[Any], Any], argument: Any) -> Any:
    """Run function(argument) on the pool; an awaitable for its result. Like
    loop.run_in_executor, without wrapping a concurrent Future in an asyncio one: the thread
    sets the result through one call_soon_threadsafe (issue 28: hand-offs per request)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(outcome: Any, failed: bool) -> None:
        if future.cancelled():  # the request went away meanwhile
            return
        if failed:
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    def job() -> None:
        try:
            outcome, failed = function(argument), False
        except BaseException as exc:  # delivered to the awaiting request
            outcome, failed = exc, True
        with suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(settle, outcome, failed)

    executor.submit(job)
    return future


@dataclass(frozen=True)
class BatchInfo:
    size: int
    queue_s: float  # enqueue → dispatch
    run_s: float  # the batch's run on its lane
    cores: int = 1  # device slots the run held: every core for a wide run on an idle CPU


@dataclass
class _Pending:
    item: Any
    future: asyncio.Future
    enqueued: float


class DynamicBatcher(Generic[Lane]):
    def __init__(
        self,
        lanes: Sequence[Lane],
        run_batch: RunBatch,
        executor: Executor,
        max_batch: int,
        max_wait_s: float,
        max_queue: int,
        on_batch: Callable[[BatchInfo], None] | None = None,
        share: DeviceShare | None = None,
        wide_lane: Lane | None = None,
        cores_per_run: int = 1,
    ) -> None:
        self._lanes = list(lanes)
        self._share = share or DeviceShare(None)
        self._cores_per_run = cores_per_run  # slots a lane's run takes (its threads on a CPU)
        self._wide_lane = wide_lane
        self._wide_free = wide_lane is not None
        self._run_batch = run_batch
        self._executor = executor
        self.max_batch = max(1, max_batch)
        self.max_wait_s = max_wait_s
        self.max_queue = max_queue
        self._on_batch = on_batch
        self._queue: deque[_Pending] = deque()
        self._free: asyncio.Queue[Lane] = asyncio.Queue()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._runner: asyncio.Task | None = None
        self._busy = 0

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    @property
    def idle(self) -> bool:
        """Nothing queued here and nothing running or waiting on the device."""
        return not self._queue and self._share.idle

    @property
    def busy_lanes(self) -> int:
        return self._busy

    def start(self) -> None:
        for lane in self._lanes:
            self._free.put_nowait(lane)
        self._share.listen(self._wakeup)
        self._runner = asyncio.get_running_loop().create_task(self._dispatch_forever())

    async def submit(self, item: Any) -> tuple[Any, BatchInfo]:
        """Queue one item and wait for its result; 503 at once when the queue is full."""
        if self._closing:
            raise WorkerError(
                503, "shutting_down", "the worker is shutting down", {"Retry-After": "1"}
            )
        if len(self._queue) >= self.max_queue:
            raise overloaded(
                f"{len(self._queue)} requests are already waiting (IPCAI_MAX_QUEUE="
                f"{self.max_queue}); retry shortly"
            )
        future = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(item, future, time.perf_counter()))
        self._wakeup.set()
        return await future

    async def close(self, timeout: float = 30.0) -> None:
        """Refuse new work, let queued and running batches finish, then stop."""
        self._closing = True
        deadline = time.monotonic() + timeout
        while (self._queue or self._busy) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self._runner:
            self._runner.cancel()
        for pending in self._queue:
            if not pending.future.done():
                pending.future.set_exception(
                    WorkerError(503, "shutting_down", "the worker is shutting down")
                )

    async def _dispatch_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            lane = await self._free.get()
            batch = await self._collect()
            self._busy += 1  # from here on close() waits for this batch, slot or not
            lane, wide, cores = await self._claim(lane, batch)
            dispatched = time.perf_counter()
            items = [p.item for p in batch]
            run = (lane, wide, cores)
            self._executor.submit(self._run_and_deliver, loop, run, items, batch, dispatched)

    async def _claim(self, lane: Lane, batch: list[_Pending]) -> tuple[Lane, bool, int]:
        """The lane and device slots this batch runs with: the whole device for a lone
        request when nothing else runs or waits, else the lane's own share (one core for a
        single-threaded lane), once it is free."""
        if self._wide_lane is not None and self._wide_free and len(batch) == 1 and not self._queue:
            cores = self._share.take_all_if_idle()
            if cores:
                self._wide_free = False
                self._free.put_nowait(lane)
                return self._wide_lane, True, cores
        return lane, False, await self._share.acquire(self._cores_per_run)

    async def _collect(self) -> list[_Pending]:
        while True:
            while not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            if self.max_batch > 1 and self.max_wait_s > 0:
                deadline = self._queue[0].enqueued + self.max_wait_s
                # Collect only while the device is busy; release() wakes us when it goes idle.
                while len(self._queue) < self.max_batch and self._share.running > 0:
                    remaining = deadline - time.perf_counter()
                    if remaining <= 0:
                        break
                    self._wakeup.clear()
                    try:
                        await asyncio.wait_for(self._wakeup.wait(), remaining)
                    except TimeoutError:
                        break
            batch: list[_Pending] = []
            while self._queue and len(batch) < self.max_batch:
                pending = self._queue.popleft()
                if not pending.future.done():  # skip callers that went away
                    batch.append(pending)
            if batch:
                return batch

    def _run_and_deliver(
        self,
        loop: asyncio.AbstractEventLoop,
        run: tuple[Lane, bool, int],
        items: list[Any],
        batch: list[_Pending],
        start: float,
    ) -> None:
        """On the lane's thread: run the batch, then hand the outcome to the loop in one
        call_soon_threadsafe. run_in_executor wrapped a concurrent Future in an asyncio one
        and copied its state across on the loop, ~13% of the loop's GIL samples per request
        in a py-spy profile under load (issue 28)."""
        began = time.perf_counter()
        results: list[Any] = []
        error: BaseException | None = None
        try:
            results = self._run_batch(run[0], items)
        except BaseException as exc:  # delivered to every request of the batch
            error = exc
        run_s = time.perf_counter() - began
        with suppress(RuntimeError):  # a closed loop: nobody waits for these results any more
            loop.call_soon_threadsafe(self._deliver, run, batch, start, results, run_s, error)

    def _deliver(
        self,
        run: tuple[Lane, bool, int],
        batch: list[_Pending],
        start: float,
        results: list[Any],
        run_s: float,
        error: BaseException | None,
    ) -> None:
        lane, wide, cores = run
        self._busy -= 1
        if wide:
            self._wide_free = True
        else:
            self._free.put_nowait(lane)
        self._share.release(cores)
        if error is None and self._on_batch:
            self._on_batch(BatchInfo(len(batch), 0.0, run_s, cores))
        for index, pending in enumerate(batch):
            if pending.future.done():
                continue
            # A run_batch may fail one item (say, a corrupt image) without failing the others.
            outcome = error if error is not None else results[index]
            if isinstance(outcome, BaseException):
                pending.future.set_exception(outcome)
            else:
                info = BatchInfo(len(batch), start - pending.enqueued, run_s, cores)
                pending.future.set_result((outcome, info))
