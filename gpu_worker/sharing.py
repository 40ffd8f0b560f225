"""One device shared by every model's batcher: who may run now, and is anything running.

Each model has its own lanes and batcher, but they all run on the same CPU cores or GPU.
On a CPU the device holds one slot per core: a batch takes a slot before it runs, so two models
with a lane per core each still never run more inferences at once than there are cores (no
oversubscription, which costs throughput and latency alike), and a lone request on an idle
machine may take every slot for a multi-threaded session. On a GPU the slots are unbounded;
what the batchers need there is whether the device is running anything (see batching.py).

Only the event loop calls this, so no locks: a check and a take are never interleaved.
"""

from __future__ import annotations

import asyncio
from collections import deque


class DeviceShare:
    def __init__(self, slots: int | None) -> None:
        """slots: runs the device takes at once (CPU cores); None for no limit (a GPU)."""
        self.slots = slots
        self.running = 0  # batches in flight on the device, all models together
        self._taken = 0
        self._waiting: deque[tuple[int, asyncio.Future]] = deque()
        self._listeners: list[asyncio.Event] = []

    @property
    def idle(self) -> bool:
        """Nothing runs and nobody waits: the next run may have the whole device."""
        return self.running == 0 and self._taken == 0 and not self._waiting

    @property
    def waiting(self) -> int:
        """Runs waiting for slots."""
        return len(self._waiting)

    def listen(self, event: asyncio.Event) -> None:
        """Set `event` whenever a run ends (a batcher collecting for a busy device wakes)."""
        self._listeners.append(event)

    async def acquire(self, count: int = 1) -> int:
        """Wait (first come, first served) until `count` slots are free, take them, and
        return how many were taken (capped at the device's slots)."""
        count = count if self.slots is None else min(count, self.slots)
        if not self._waiting and self._fits(count):
            self._take(count)
            return count
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((count, future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(count)  # granted just as we were cancelled: hand it back
            else:
                self._waiting.remove((count, future))
            raise
        return count

    def take_all_if_idle(self) -> int:
        """Every slot at once when the device is idle (0 otherwise, or without a limit)."""
        if self.slots is None or not self.idle:
            return 0
        self._take(self.slots)
        return self.slots

    def release(self, count: int) -> None:
        """A run of `count` slots ended: grant waiters in order, wake collecting batchers."""
        self.running -= 1
        self._taken -= count if self.slots is not None else 0
        while self._waiting and self._fits(self._waiting[0][0]):
            wanted, future = self._waiting.popleft()
            if not future.done():
                self._take(wanted)
                future.set_result(None)
        for event in self._listeners:
            event.set()

    def _fits(self, count: int) -> bool:
        return self.slots is None or self._taken + count <= self.slots

    def _take(self, count: int) -> None:
        self.running += 1
        self._taken += count if self.slots is not None else 0
