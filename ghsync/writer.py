"""One queue for every use of a flow run's warehouse file.

Each use of the file needs its lock (one writing process at a time per file) and an open DuckDB
connection. Paying for both per page made the database the bottleneck of a sync (then the lock
was a Prefect slot: two API calls, and on the temporary server's SQLite one in three met a ~2 s
"database is locked" stall), while a page loads in milliseconds. The writer takes the lock and
opens the file once for every job queued meanwhile, runs them one after another (each in its own
transaction, but for page loads: see below), keeps the file open while jobs keep coming (closing
DuckDB checkpoints the file: per page, that cost more than the page), and hands it back after
`linger` idle seconds, `max_hold` seconds, or `yield_after` seconds when another process waits
for it (a reader, another run), so they get a turn soon; the lock's turnstile lets a process
that waits at hand-back in before this writer again (see ghsync/filelock.py). `aclose` (or
leaving `async with`) hands it back at once.

A program that opens the file without taking the lock (the DuckDB shell, a script) makes
DuckDB refuse the writer: the writer then waits for it, with backoff, says so once (a warning
naming the holder) and fails the jobs in hand only after `holder_timeout` seconds.

`reading` is the readers' side: the file opened read-only under the lock, shared.

A DuckLake (ghsync/lake.py) needs no lock: many processes write it at once, and readers read
snapshots. It refuses, at commit, a transaction that conflicts with one committed meanwhile
(a delete from a table another writer inserted into, as every upsert is): the writer then runs
the job again, after a random pause that doubles each time, `conflict_attempts` times at most.

Pages queued together (`load`: several repositories' loads arriving while one runs) share one
transaction, which makes loading several times faster (`Warehouse.upsert_pages`). If that
transaction fails, each of its pages is loaded again on its own, so a failing page never takes
others with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ghsync.errors import DatabaseLocked, WriteConflict
from ghsync.filelock import file_lock, lock_path, shared_lock
from ghsync.lake import Lake, Location
from ghsync.log import get_logger
from ghsync.warehouse import PageLoad, Warehouse

T = TypeVar("T")

Opener = Callable[[Location, bool], Warehouse]
"""`opener(path, migrate)`: the warehouse at `path` opened for writing (migrated when asked)."""


def open_for_writing(path: Location, migrate: bool) -> Warehouse:
    """The writer's default opener."""
    return Warehouse.open(path, migrate=migrate)


MAX_HOLD_SECONDS = 10.0
"""The file is handed back after this long even while jobs are queued."""
LINGER_SECONDS = 0.5
"""The file is handed back when no job came for this long."""
YIELD_AFTER_SECONDS = 1.0
"""Held this long, the file is handed back (after the jobs in hand) when another process (a
reader: `ghsync status`, `ghsync sql`; another run) waits for it."""
MAX_BATCH_ROWS = 100_000
"""Queued pages share a transaction up to this many rows (a 50-PR page has a few thousand)."""
HOLDER_TIMEOUT_SECONDS = 120.0
"""How long the writer waits for another program holding the file before it gives up."""
HOLDER_RETRY_SECONDS = (0.1, 5.0)
"""The first and the longest pause between two attempts to open a file another program holds
(doubling)."""
CONFLICT_ATTEMPTS = 8
"""How often a job refused for a conflict with another DuckLake writer is run in all."""
CONFLICT_PAUSE_SECONDS = (0.02, 2.0)
"""The first and the longest pause before a job refused for a conflict runs again (doubling;
each a random fraction of it, so the writers that conflicted do not meet again)."""

log = get_logger(__name__)


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
    conflicts: int = 0
    """Jobs a DuckLake refused for a conflict with another writer, and ran again."""

    def committed(self, pages: int) -> None:
        """`pages` were loaded in one transaction."""
        self.pages += pages
        self.transactions += 1


@dataclass
class WarehouseWriter:
    """Runs jobs on the warehouse at `path`, in order, holding `lock` while the file is open."""

    path: Location
    lock: Callable[[], AbstractAsyncContextManager[Callable[[], bool]]]
    """Held while the file is open; it tells whether another process waits for it."""
    max_hold: float = MAX_HOLD_SECONDS
    linger: float = LINGER_SECONDS
    yield_after: float = YIELD_AFTER_SECONDS
    holder_timeout: float = HOLDER_TIMEOUT_SECONDS
    opener: Opener = open_for_writing
    conflict_attempts: int = CONFLICT_ATTEMPTS
    _queue: list[_Job] = field(default_factory=list)
    _taken: list[_Job] = field(default_factory=list)
    """The jobs out of the queue and not settled yet."""
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _worker: asyncio.Task[None] | None = None
    _migrated: bool = False
    _closing: bool = False
    stats: WriterStats = field(default_factory=WriterStats)

    @classmethod
    def of(cls, location: Location) -> WarehouseWriter:
        """The writer of the warehouse at `location`. A file's writer holds the file's OS lock
        while the file is open: writers of one file, in any process, queue instead of failing
        on DuckDB's lock. A DuckLake's writers need none (they write at once)."""
        if isinstance(location, Lake):
            return cls(location, _no_lock)
        lock = lock_path(location)
        return cls(location, lambda: file_lock(lock))

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
                async with self.lock() as waited_for:
                    await self._hold_file(waited_for)
            except BaseException as error:  # no lock or no file: every job in hand fails with it
                jobs, self._taken, self._queue = [*self._taken, *self._queue], [], []
                for job in jobs:
                    _settle(job, None, error)
                if not isinstance(error, Exception):
                    raise

    async def _hold_file(self, waited_for: Callable[[], bool]) -> None:
        warehouse = await self._open_when_free()
        try:
            opened = time.monotonic()
            while self._keep_holding(opened, waited_for) and (
                self._queue or await self._more_soon()
            ):
                self._taken, self._queue = self._queue, []
                await asyncio.to_thread(self._run_all, warehouse, self._taken)
                for job in self._taken:
                    _settle(job, job.result, job.error)
                self._taken = []
                await asyncio.sleep(0)  # the callers just settled may queue their next page
        finally:
            await asyncio.to_thread(warehouse.close)

    def _keep_holding(self, since: float, waited_for: Callable[[], bool]) -> bool:
        """False after `max_hold` seconds, or after `yield_after` while another process waits."""
        held = time.monotonic() - since
        return held < self.max_hold and not (held >= self.yield_after and waited_for())

    async def _more_soon(self) -> bool:
        """True when a job arrives within `linger` seconds (never while closing)."""
        if self._closing:
            return False
        self._arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), self.linger)
        return bool(self._queue) and not self._closing

    async def _open_when_free(self) -> Warehouse:
        """Open the file, waiting while another program holds it (DuckDB names the holder)."""
        give_up = time.monotonic() + self.holder_timeout
        pause, longest = HOLDER_RETRY_SECONDS
        warned = False
        while True:
            try:
                return await asyncio.to_thread(self._resolving_conflicts, self._open)
            except DatabaseLocked as locked:
                left = give_up - time.monotonic()
                if left <= 0:
                    waited = f"{locked.detail} (waited {self.holder_timeout:g} s for it)"
                    raise DatabaseLocked(self.path, waited) from locked
                if not warned:
                    log.warning(
                        "warehouse %s is held by %s, which does not share ghsync's lock: "
                        "waiting up to %g s for it to close the file",
                        self.path,
                        locked.holder,
                        self.holder_timeout,
                    )
                    warned = True
                await asyncio.sleep(min(pause, left))
                pause = min(pause * 2, longest)

    def _open(self) -> Warehouse:
        """Open the file; migrate it the first time only (views and rules are the same after)."""
        warehouse = self.opener(self.path, not self._migrated)
        self._migrated = True
        return warehouse

    def _resolving_conflicts(self, work: Callable[[], T]) -> T:
        """`work()`, run again while another DuckLake writer's commit conflicts with it."""
        pause, longest = CONFLICT_PAUSE_SECONDS
        for _ in range(self.conflict_attempts - 1):
            try:
                return work()
            except WriteConflict:
                self.stats.conflicts += 1
                time.sleep(random.uniform(0, pause))
                pause = min(pause * 2, longest)
        return work()

    def _run_all(self, warehouse: Warehouse, jobs: list[_Job]) -> None:
        """Run each job not given up by its caller, consecutive page loads in one transaction;
        each job's result or error is kept on the job."""
        for batch in _batches([job for job in jobs if not job.done.cancelled()]):
            if len(batch) > 1:
                loads = [job.page for job in batch if job.page is not None]
                try:
                    self._resolving_conflicts(lambda: warehouse.upsert_pages(loads))  # noqa: B023
                    self.stats.committed(len(batch))
                    continue
                except Exception:  # rolled back: each page again on its own, to fail alone
                    pass
            for job in batch:
                try:
                    job.result = self._resolving_conflicts(lambda: job.work(warehouse))  # noqa: B023
                except Exception as error:
                    job.error = error
                if job.page is not None:
                    self.stats.committed(1)


@contextlib.asynccontextmanager
async def _no_lock() -> AsyncIterator[Callable[[], bool]]:
    """A lock nobody waits for."""
    yield lambda: False


@contextmanager
def reading(path: Location, on_wait: Callable[[], None]) -> Iterator[Warehouse]:
    """The warehouse at `path` opened read-only for the block, under its lock held shared: after
    the write in progress, if any (`on_wait` is called once before waiting), and in no
    writer's way (a writer meeting DuckDB's own lock of a reader would have to wait). A
    DuckLake is read at once: its readers read a snapshot, in no writer's way."""
    lock = (
        contextlib.nullcontext()
        if isinstance(path, Lake)
        else shared_lock(lock_path(path), on_wait)
    )
    with lock, Warehouse.open(path, read_only=True) as warehouse:
        yield warehouse


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
