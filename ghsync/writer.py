"""One queue for every use of a flow run's warehouse file.

Each use of the file needs its lock (one process at a time per file) and an open DuckDB
connection. Paying for both per page made the database the bottleneck of a sync (then the lock
was a Prefect slot: two API calls, and on the temporary server's SQLite one in three met a ~2 s
"database is locked" stall), while a page loads in milliseconds. The writer takes the lock and
opens the file once for every job queued meanwhile, runs them one after another (each in its
own transaction, but for page loads: see below), keeps the file open while jobs keep coming
(closing DuckDB checkpoints the file: per page, that cost more than the page), and hands it
back after `linger` idle seconds or `max_hold` seconds, so writers in other processes get a
turn. `aclose` (or leaving `async with`) hands it back at once.

Pages queued together (`load`: several repositories' loads arriving while one runs) share one
transaction, which makes loading several times faster (`Warehouse.upsert_pages`). If that
transaction fails, each of its pages is loaded again on its own, so a failing page never takes
others with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ghsync import Warehouse
from ghsync.warehouse import PageLoad

T = TypeVar("T")

MAX_HOLD_SECONDS = 10.0
"""The file is handed back after this long even while jobs are queued."""
LINGER_SECONDS = 0.5
"""The file is handed back when no job came for this long."""
MAX_BATCH_ROWS = 100_000
"""Queued pages share a transaction up to this many rows (a 50-PR page has a few thousand)."""


@dataclass
class _Job:
    work: Callable[[Warehouse], Any]
    done: asyncio.Future[Any]
    page: PageLoad | None = None
    """Set for a page load, which may share a transaction with the page loads next to it."""
    result: Any = None
    error: BaseException | None = None


@dataclass
class WriterStats:
    """What the writer did: pages loaded, and the transactions they took."""

    pages: int = 0
    transactions: int = 0

    def committed(self, pages: int) -> None:
        """`pages` were loaded in one transaction."""
        self.pages += pages
        self.transactions += 1


@dataclass
class WarehouseWriter:
    """Runs jobs on the warehouse at `path`, in order, holding `lock` while the file is open."""

    path: Path
    lock: Callable[[], AbstractAsyncContextManager[None]]
    max_hold: float = MAX_HOLD_SECONDS
    linger: float = LINGER_SECONDS
    _queue: list[_Job] = field(default_factory=list)
    _taken: list[_Job] = field(default_factory=list)
    """The jobs out of the queue and not settled yet."""
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _worker: asyncio.Task[None] | None = None
    _migrated: bool = False
    _closing: bool = False
    stats: WriterStats = field(default_factory=WriterStats)

    async def run(self, work: Callable[[Warehouse], T]) -> T:
        """Run `work` on the open warehouse (in a thread, after the jobs queued before it)."""
        result: T = await self._submit(_Job(work, asyncio.get_running_loop().create_future()))
        return result

    async def load(self, page: PageLoad) -> None:
        """Load a page with its sync state (`Warehouse.upsert_pages`), after the jobs queued
        before it and in one transaction with the page loads queued next to it."""

        def work(warehouse: Warehouse) -> None:
            warehouse.upsert_pages([page])

        await self._submit(_Job(work, asyncio.get_running_loop().create_future(), page))

    async def _submit(self, job: _Job) -> Any:
        self._queue.append(job)
        self._arrived.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name=f"warehouse-writer {self.path}")
        return await job.done

    async def aclose(self) -> None:
        """Close the file (after the jobs queued) and release its lock."""
        self._closing = True
        self._arrived.set()
        if self._worker is not None:
            await self._worker

    async def __aenter__(self) -> WarehouseWriter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _drain(self) -> None:
        """Hold the lock and the open file for queued jobs, until none is left."""
        while self._queue:
            try:
                async with self.lock():
                    await self._hold_file()
            except BaseException as error:  # no lock or no file: every job in hand fails with it
                jobs, self._taken, self._queue = [*self._taken, *self._queue], [], []
                for job in jobs:
                    _settle(job, None, error)
                if not isinstance(error, Exception):
                    raise

    async def _hold_file(self) -> None:
        warehouse = await asyncio.to_thread(self._open)
        try:
            deadline = time.monotonic() + self.max_hold
            while time.monotonic() < deadline and (self._queue or await self._more_soon()):
                self._taken, self._queue = self._queue, []
                await asyncio.to_thread(_run_all, warehouse, self._taken, self.stats)
                for job in self._taken:
                    _settle(job, job.result, job.error)
                self._taken = []
                await asyncio.sleep(0)  # the callers just settled may queue their next page
        finally:
            await asyncio.to_thread(warehouse.close)

    async def _more_soon(self) -> bool:
        """True when a job arrives within `linger` seconds (never while closing)."""
        if self._closing:
            return False
        self._arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), self.linger)
        return bool(self._queue) and not self._closing

    def _open(self) -> Warehouse:
        """Open the file; migrate it the first time only (views and rules are the same after)."""
        warehouse = Warehouse.open(self.path, migrate=not self._migrated)
        self._migrated = True
        return warehouse


def _run_all(warehouse: Warehouse, jobs: list[_Job], stats: WriterStats) -> None:
    """Run each job not given up by its caller, consecutive page loads in one transaction; each
    job's result or error is kept on the job."""
    for batch in _batches([job for job in jobs if not job.done.cancelled()]):
        if len(batch) > 1:
            try:
                warehouse.upsert_pages([job.page for job in batch if job.page is not None])
                stats.committed(len(batch))
                continue
            except Exception:  # rolled back: each page again on its own, to fail alone
                pass
        for job in batch:
            try:
                job.result = job.work(warehouse)
            except Exception as error:
                job.error = error
            if job.page is not None:
                stats.committed(1)


def _batches(jobs: list[_Job]) -> Iterator[list[_Job]]:
    """`jobs` in order, consecutive page loads grouped up to MAX_BATCH_ROWS, others alone."""
    batch: list[_Job] = []
    rows = 0
    for job in jobs:
        page_rows = job.page[0].rows() if job.page is not None else None
        if batch and (page_rows is None or rows + page_rows > MAX_BATCH_ROWS):
            yield batch
            batch, rows = [], 0
        if page_rows is None:
            yield [job]
        else:
            batch.append(job)
            rows += page_rows
    if batch:
        yield batch


def _settle(job: _Job, result: Any, error: BaseException | None) -> None:
    if job.done.done():
        return
    if error is not None and not isinstance(error, Exception):
        job.done.cancel()
    elif error is not None:
        job.done.set_exception(error)
    else:
        job.done.set_result(result)
