"""The device share: slots taken first come, first served, and the whole device when idle."""

from __future__ import annotations

import asyncio

from gpu_worker.sharing import DeviceShare


def test_slots_are_granted_in_order_as_runs_end():
    async def scenario():
        share = DeviceShare(2)
        assert await share.acquire(1) == 1 and await share.acquire(1) == 1
        order: list[str] = []

        async def wait(name: str) -> None:
            await share.acquire(1)
            order.append(name)

        waiters = [asyncio.create_task(wait(n)) for n in ("first", "second")]
        while share.waiting < 2:
            await asyncio.sleep(0)
        share.release(1)
        await asyncio.sleep(0)
        assert order == ["first"]  # one slot freed: the first waiter only
        share.release(1)
        await asyncio.gather(*waiters)
        return order, share.running

    assert run(scenario()) == (["first", "second"], 2)


def test_every_slot_only_when_nothing_runs():
    async def scenario():
        share = DeviceShare(2)
        assert share.take_all_if_idle() == 2
        assert share.take_all_if_idle() == 0  # taken: not idle
        share.release(2)
        await share.acquire(1)
        busy = share.take_all_if_idle()
        share.release(1)
        return busy, share.idle

    assert run(scenario()) == (0, True)


def test_a_gpu_has_no_slot_limit_but_counts_what_runs():
    async def scenario():
        share = DeviceShare(None)
        counts = [await share.acquire(1) for _ in range(5)]
        running = share.running
        woken = asyncio.Event()
        share.listen(woken)
        share.release(1)
        return counts, running, woken.is_set(), share.take_all_if_idle()

    assert run(scenario()) == ([1] * 5, 5, True, 0)


def test_a_cancelled_waiter_gives_up_its_place():
    async def scenario():
        share = DeviceShare(1)
        await share.acquire(1)
        waiter = asyncio.create_task(share.acquire(1))
        while share.waiting < 1:
            await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        share.release(1)
        return share.waiting, share.idle

    assert run(scenario()) == (0, True)


def run(coro):
    return asyncio.run(coro)
