"""The warehouse writer: queued jobs share one open file under its OS lock, run in order, fail
alone; queued pages share a transaction; a waiting reader gets the file soon; another program
holding the file makes the writer wait, then fail, naming it."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from ghsync import SyncState, Warehouse
from ghsync.errors import DatabaseLocked
from ghsync.filelock import file_lock, lock_path
from ghsync.writer import Opener, WarehouseWriter, open_for_writing
from tests.unit.holder import holding
from tests.unit.warehouse_rows import REPO, file, page, pr, status


def writer(db: Path, opener: Opener = open_for_writing) -> WarehouseWriter:
    return WarehouseWriter(db, lambda: file_lock(lock_path(db)), opener=opener)


async def test_jobs_run_in_order_and_one_failure_stays_its_own(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    jobs = writer(db)
    ran: list[int] = []

    async def job(number: int) -> int:
        def work(warehouse: Warehouse) -> int:
            if number == 3:
                raise ValueError("page 3 is bad")
            warehouse.write_sync_state(SyncState(f"acme/repo-{number}", status="ok"))
            ran.append(number)
            return number

        return await jobs.run(work)

    results = await asyncio.gather(*(job(n) for n in range(1, 6)), return_exceptions=True)
    await jobs.aclose()
    assert results[:2] == [1, 2] and results[3:] == [4, 5]
    assert isinstance(results[2], ValueError)
    assert ran == [1, 2, 4, 5]
    with Warehouse.open(db, read_only=True) as warehouse:
        assert [warehouse.read_sync_state(f"acme/repo-{n}") is not None for n in range(1, 6)] == [
            True,
            True,
            False,
            True,
            True,
        ]


async def test_queued_jobs_share_one_opening(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    opened: list[bool] = []

    def counting_open(path: Path, migrate: bool) -> Warehouse:
        opened.append(migrate)
        return open_for_writing(path, migrate)

    async with writer(db, counting_open) as jobs:
        await asyncio.gather(*(jobs.run(lambda w: w.read_sync_state("a/b")) for _ in range(20)))
        await jobs.run(lambda w: w.read_sync_state("a/b"))  # within `linger`: same opening
    assert opened == [True]
    with Warehouse.open(db, read_only=True):  # closed: another connection may open the file
        pass
    await jobs.run(lambda w: w.read_sync_state("a/b"))  # opens the file again
    await jobs.aclose()  # closed: the next job opens it once more
    await jobs.run(lambda w: w.read_sync_state("a/b"))
    await jobs.aclose()
    # a later opening (the queue had emptied) does not migrate again
    assert opened == [True, False, False]


async def test_a_failure_outside_the_jobs_fails_the_jobs_in_hand(tmp_path: Path) -> None:
    def broken_open(path: Path, migrate: bool) -> Warehouse:
        raise OSError("the file went away")

    async with writer(tmp_path / "w.duckdb", broken_open) as jobs:
        with pytest.raises(OSError, match="went away"):  # not left waiting forever
            await asyncio.wait_for(jobs.run(lambda w: w.read_sync_state("a/b")), 10)


async def test_queued_pages_share_a_transaction_and_a_failing_page_fails_alone(
    tmp_path: Path,
) -> None:
    db = tmp_path / "w.duckdb"
    good = [page([pr(n)], files=[file(n, "a.py")]) for n in range(1, 5)]
    broken = page([pr(9)], statuses=[status(9, None, "SUCCESS")])  # type: ignore[arg-type]
    async with writer(db) as jobs:
        await asyncio.gather(*(jobs.load((frames, None)) for frames in good))
        assert (jobs.stats.pages, jobs.stats.transactions) == (4, 1)
        pages = [*good[:2], broken, *good[2:]]
        states = [SyncState(REPO, cursor=f"c{i}") for i in range(len(pages))]
        results = await asyncio.gather(
            *(jobs.load(load) for load in zip(pages, states, strict=True)), return_exceptions=True
        )
    assert [type(result).__name__ for result in results] == [
        "NoneType", "NoneType", "WarehouseError", "NoneType", "NoneType"
    ]  # fmt: skip
    # the batch failed, then each page ran in its own transaction
    assert (jobs.stats.pages, jobs.stats.transactions) == (9, 6)
    with Warehouse.open(db, read_only=True) as warehouse:
        assert warehouse.query("SELECT count(*) FROM pull_requests").item() == 4
        assert warehouse.query("SELECT count(*) FROM pr_files").item() == 4
        state = warehouse.read_sync_state(REPO)
        assert state is not None and state.cursor == "c4"


async def test_a_waiting_reader_gets_the_file_while_the_writer_stays_busy(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    openings: list[int] = []

    def lock() -> AbstractAsyncContextManager[Callable[[], bool]]:
        openings.append(1)
        return file_lock(lock_path(db))

    # never handed back on its own: only because a reader waits
    jobs = WarehouseWriter(db, lock, max_hold=3600, linger=3600, yield_after=0)
    await jobs.run(lambda w: w.write_sync_state(SyncState(REPO, status="ok")))
    reader = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "ghsync.cli", "sql", "SELECT count(*) AS states FROM sync_state"),
        *("--db", str(db)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert reader.stderr is not None
    assert await reader.stderr.readline() == f"waiting for the sync writing {db} ...\n".encode()
    finished = asyncio.ensure_future(reader.communicate())
    ran = 0
    async with asyncio.timeout(60):  # a guard: the reader would wait for aclose without a turn
        while not finished.done():  # the writer keeps busy, as a sync does
            await jobs.run(lambda w: w.read_sync_state(REPO))
            ran += 1
    await jobs.aclose()
    output, rest = await finished
    assert reader.returncode == 0, rest
    assert rest == b""  # said once
    assert "states" in output.decode() and ran >= 1
    assert len(openings) == 2  # handed back once, to the reader, and taken again


class _Said(logging.Handler):
    """The writer's warnings, and an event set at the first one."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.first = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.first.set()


@pytest.fixture
def said() -> Iterator[_Said]:
    handler = _Said()
    logger = logging.getLogger("ghsync.writer")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def write_state(warehouse: Warehouse) -> None:
    warehouse.write_sync_state(SyncState(REPO, status="ok"))


async def test_a_writer_waits_for_another_program_holding_the_file(
    tmp_path: Path, said: _Said
) -> None:
    db = tmp_path / "w.duckdb"
    Warehouse.open(db).close()
    async with writer(db) as jobs:
        with holding(db) as holder:
            job = asyncio.ensure_future(jobs.run(write_state))
            async with asyncio.timeout(60):
                await said.first.wait()
            assert not job.done()
        # the holder closed the file: the writer gets it
        await job
    assert len(said.messages) == 1
    assert f"(PID {holder.pid})" in said.messages[0] and str(db) in said.messages[0]
    with Warehouse.open(db, read_only=True) as warehouse:
        assert warehouse.read_sync_state(REPO) is not None


async def test_a_writer_gives_up_on_a_holder_after_its_bound_and_names_it(
    tmp_path: Path, said: _Said
) -> None:
    db = tmp_path / "w.duckdb"
    Warehouse.open(db).close()
    jobs = WarehouseWriter(db, lambda: file_lock(lock_path(db)), holder_timeout=0.5)
    with holding(db) as holder:
        with pytest.raises(DatabaseLocked) as caught:
            await jobs.run(write_state)
        await jobs.aclose()
    assert f"(PID {holder.pid})" in str(caught.value) and "waited 0.5 s" in str(caught.value)
    assert len(said.messages) == 1
    with Warehouse.open(db, read_only=True) as warehouse:
        assert warehouse.read_sync_state(REPO) is None
