"""One queue for every use of a flow run's warehouse file.

Each use of the file needs its Prefect slot (one process at a time per file) and an open DuckDB
connection. Paying for both per page made the database the bottleneck of a sync: a slot is two
API calls, and on the temporary server's SQLite one in three met a ~2 s "database is locked"
stall, while the page itself loads in milliseconds. The writer takes the slot and opens the
file once for every job queued meanwhile, runs them one after another (each job keeps its own
transaction, so one failing page never takes others with it), and hands the file back as soon
as the queue is empty or after `max_hold` seconds, so writers in other processes get a turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ghsync import Warehouse

T = TypeVar("T")

MAX_HOLD_SECONDS = 10.0
"""The file is handed back after this long even while jobs are queued."""


@dataclass
class _Job:
    work: Callable[[Warehouse], Any]
    done: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None


@dataclass
class WarehouseWriter:
    """Runs jobs on the warehouse at `path`, in order, holding `slot` while the file is open."""

    path: Path
    slot: Callable[[], AbstractAsyncContextManager[None]]
    max_hold: float = MAX_HOLD_SECONDS
    _queue: list[_Job] = field(default_factory=list)
    _worker: asyncio.Task[None] | None = None
    _migrated: bool = False

    async def run(self, work: Callable[[Warehouse], T]) -> T:
        """Run `work` on the open warehouse (in a thread, after the jobs queued before it)."""
        job = _Job(work, asyncio.get_running_loop().create_future())
        self._queue.append(job)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name=f"warehouse-writer {self.path}")
        result: T = await job.done
        return result

    async def _drain(self) -> None:
        """Hold the lock and the open file for queued jobs, until none is left."""
        while self._queue:
            try:
                async with self.slot():
                    last = await self._hold_file()
            except BaseException as error:  # no lock or no file: every queued job fails with it
                jobs, self._queue = self._queue, []
                for job in jobs:
                    _settle(job, None, error)
                if not isinstance(error, Exception):
                    raise
            else:
                for job in last:  # after the file is closed: its caller may open it next
                    _settle(job, job.result, job.error)

    async def _hold_file(self) -> list[_Job]:
        """Run queued jobs on the open file; returns the last batch, not settled yet."""
        warehouse = await asyncio.to_thread(self._open)
        try:
            deadline = time.monotonic() + self.max_hold
            while True:
                jobs, self._queue = self._queue, []
                await asyncio.to_thread(_run_all, warehouse, jobs)
                if not self._queue or time.monotonic() >= deadline:
                    return jobs
                for job in jobs:
                    _settle(job, job.result, job.error)
        finally:
            await asyncio.to_thread(warehouse.close)

    def _open(self) -> Warehouse:
        """Open the file; migrate it the first time only (views and rules are the same after)."""
        warehouse = Warehouse.open(self.path, migrate=not self._migrated)
        self._migrated = True
        return warehouse


def _run_all(warehouse: Warehouse, jobs: list[_Job]) -> None:
    """Run each job not given up by its caller; its result or error is kept on the job."""
    for job in jobs:
        if job.done.cancelled():
            continue
        try:
            job.result = job.work(warehouse)
        except Exception as error:
            job.error = error


def _settle(job: _Job, result: Any, error: BaseException | None) -> None:
    if job.done.done():
        return
    if error is not None and not isinstance(error, Exception):
        job.done.cancel()
    elif error is not None:
        job.done.set_exception(error)
    else:
        job.done.set_result(result)
