"""Prefect global-concurrency slots, held for a burst of work and lent out one use at a time.

Acquiring a Prefect slot is two API calls (increment, decrement) and two events, and on the
temporary server's SQLite an increment often meets "database is locked": a 503 that Prefect's
client retries after ~2 s. Per GitHub request that stall dominated a sync (433 s for 5,000 PRs
against the emulator). A `SlotPool` acquires up to `size` slots of one limit as they are needed,
keeps each while it is in use again within `linger` seconds (for at most `max_hold` seconds,
so other processes get their turn), and lends it to one user at a time: every request still
holds a slot of the global limit, across processes, but a burst pays for it once.

A limit can disappear while a run uses it (`prefect gcl delete`, a server that is not the one
the run started with): an acquisition that Prefect refuses for want of the limit creates the
limit again and retries, a bounded number of times, saying so in the run's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError, concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

LINGER_SECONDS = 5.0
"""An idle slot is released after this long (the next request of a page chain comes sooner)."""
MAX_HOLD_SECONDS = 30.0
"""A slot is handed back to Prefect after this long, so waiters elsewhere get their turn."""
RECREATE_ATTEMPTS = 3
"""How many times a limit found missing is created again, per limit check or acquisition."""


class LimitMissing(Exception):
    """The Prefect server still has no limit of that name after creating it again and again."""


async def ensure_limit(name: str, size: int) -> bool:
    """Make the Prefect server have the global concurrency limit `name` of `size` slots, and
    confirm it by reading it back; True when it had to be created.

    Prefect's own upsert is a read then a create, unconfirmed, and fails when another run
    creates the same limit in between (409); here that run's limit is as good as ours.
    """
    created = False
    async with get_client() as client:
        for _ in range(RECREATE_ATTEMPTS + 1):
            try:
                limit = await client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                with contextlib.suppress(ObjectAlreadyExists):
                    create = GlobalConcurrencyLimitCreate(name=name, limit=size)
                    await client.create_global_concurrency_limit(create)
                created = True
                continue  # read it back
            if limit.limit != size:
                update = GlobalConcurrencyLimitUpdate(limit=size)
                await client.update_global_concurrency_limit(name, update)
            return created
    raise LimitMissing(f"{name}: the Prefect server keeps no such concurrency limit")


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
            async with contextlib.AsyncExitStack() as held:
                await self._acquire(held)
                now = time.monotonic()
                lease = _Lease(acquired=now, last_used=now)
                async with self._changed:
                    self._free.append(lease)
                    self._changed.notify()
                await self._wait_until_retired(lease)
        except Exception as error:  # no slot: the waiters raise it (a limit still missing, a 4xx)
            self._error = error
        finally:
            async with self._changed:
                self._holders.discard(asyncio.current_task())
                self._changed.notify_all()

    async def _acquire(self, held: contextlib.AsyncExitStack) -> None:
        """One slot of the limit, held until `held` closes. When Prefect refuses it and the
        limit is gone, the limit is created again and the slot asked for again."""
        for attempt in range(RECREATE_ATTEMPTS + 1):
            slot = concurrency(
                self.name, occupy=1, strict=True, lease_duration=self._lease_duration
            )
            try:
                await held.enter_async_context(slot)
                return
            except ConcurrencySlotAcquisitionError:
                if attempt == RECREATE_ATTEMPTS or not await ensure_limit(self.name, self.size):
                    raise
            get_run_logger().warning(
                "%s: the Prefect server had no such concurrency limit any more; created it "
                "again (%d slots)",
                self.name,
                self.size,
            )

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
