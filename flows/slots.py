"""Prefect global-concurrency slots, held for a burst of work and lent out one use at a time.

Acquiring a Prefect slot is two API calls (increment, decrement) and two events, and on the
temporary server's SQLite an increment often meets "database is locked": a 503 that Prefect's
client retries after ~2 s. Per GitHub request that stall dominated a sync (433 s for 5,000 PRs
against the emulator). A `SlotPool` acquires up to `size` slots of one limit as they are needed,
keeps each while it is in use again within `linger` seconds (for at most `max_hold` seconds,
so other processes get their turn), and lends it to one user at a time: every request still
holds a slot of the global limit, across processes, but a burst pays for it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from prefect.concurrency.asyncio import concurrency

LINGER_SECONDS = 5.0
"""An idle slot is released after this long (the next request of a page chain comes sooner)."""
MAX_HOLD_SECONDS = 30.0
"""A slot is handed back to Prefect after this long, so waiters elsewhere get their turn."""


@dataclass
class _Lease:
    acquired: float
    last_used: float
    done: asyncio.Event = field(default_factory=asyncio.Event)


class SlotPool:
    """Slots of the global limit `name`, at most `size` held by this process."""

    def __init__(
        self,
        name: str,
        size: int,
        *,
        lease_duration: float,
        linger: float = LINGER_SECONDS,
        max_hold: float = MAX_HOLD_SECONDS,
    ) -> None:
        self.name = name
        self.size = size
        self._lease_duration = lease_duration
        self._linger = linger
        self._max_hold = max_hold
        self._free: list[_Lease] = []
        self._holders: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()
        self._error: BaseException | None = None
        # Holders run in the context the pool was made in (the flow's), not in the task run
        # that first needed a slot: a task run releases its leases when it ends.
        self._context = contextvars.copy_context()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot of the limit for the block."""
        lease = await self._take()
        try:
            yield
        finally:
            lease.last_used = time.monotonic()
            async with self._changed:
                self._free.append(lease)
                self._changed.notify()

    async def close(self) -> None:
        """Release every slot held (waits for the Prefect calls)."""
        async with self._changed:
            for lease in self._free:
                lease.done.set()
            self._free.clear()
        if self._holders:
            await asyncio.gather(*self._holders, return_exceptions=True)

    async def _take(self) -> _Lease:
        async with self._changed:
            while not self._free:
                if self._error is not None:
                    raise self._error
                if len(self._holders) < self.size:
                    self._start_holder()
                await self._changed.wait()
            return self._free.pop()

    def _start_holder(self) -> None:
        holder = asyncio.get_running_loop().create_task(
            self._hold(), name=f"slot-holder {self.name}", context=self._context.copy()
        )
        self._holders.add(holder)

    async def _hold(self) -> None:
        """Acquire one slot, put it in the free list, release it when idle or held too long."""
        try:
            async with concurrency(
                self.name, occupy=1, strict=True, lease_duration=self._lease_duration
            ):
                now = time.monotonic()
                lease = _Lease(acquired=now, last_used=now)
                async with self._changed:
                    self._free.append(lease)
                    self._changed.notify()
                await self._wait_until_retired(lease)
        except Exception as error:  # no slot: the waiters raise it (a missing limit, a 4xx)
            self._error = error
        finally:
            async with self._changed:
                self._holders.discard(asyncio.current_task())
                self._changed.notify_all()

    async def _wait_until_retired(self, lease: _Lease) -> None:
        while not lease.done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lease.done.wait(), self._linger / 4)
            async with self._changed:
                now = time.monotonic()
                idle = now - lease.last_used >= self._linger
                if lease in self._free and (idle or now - lease.acquired >= self._max_hold):
                    self._free.remove(lease)
                    return


class Slots:
    """The slots of one flow run's limits, by name; `async with` releases them at the end."""

    def __init__(self, lease_duration: float) -> None:
        self._lease_duration = lease_duration
        self._pools: dict[str, SlotPool] = {}

    def add(self, name: str, size: int) -> None:
        """Lend slots of the limit `name` (of `size` slots)."""
        self._pools[name] = SlotPool(name, size, lease_duration=self._lease_duration)

    def hold(self, name: str) -> AbstractAsyncContextManager[None]:
        """One slot of the limit `name`, for an `async with` block."""
        return self._pools[name].slot()

    async def __aenter__(self) -> Slots:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.gather(*(pool.close() for pool in self._pools.values()))
