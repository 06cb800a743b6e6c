"""OS file locks: the warehouse lock makes another process wait and dies with its holder,
readers share it and get their turn before its holder takes it again; the presence lock tells
a run whether another run is alive."""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.synchronize
import threading
import time
from pathlib import Path

import pytest

from ghsync.filelock import file_lock, presence, shared_lock


def _hold_lock(path: Path, seconds: float, started: multiprocessing.synchronize.Event) -> None:
    async def hold() -> None:
        async with file_lock(path):
            started.set()
            await asyncio.sleep(seconds)

    asyncio.run(hold())


async def test_the_file_lock_makes_another_process_wait_and_dies_with_its_holder(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.duckdb.lock"
    started = multiprocessing.get_context("spawn").Event()
    holder = multiprocessing.get_context("spawn").Process(
        target=_hold_lock, args=(path, 60.0, started)
    )
    holder.start()
    try:
        assert started.wait(30)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5), file_lock(path):
                pass
        holder.kill()  # SIGKILL: the kernel releases the lock
        holder.join()
        begun = time.monotonic()
        async with asyncio.timeout(5), file_lock(path):
            pass
        assert time.monotonic() - begun < 5
    finally:
        holder.kill()
        holder.join()


async def test_a_reader_waits_its_turn_and_the_holder_cannot_take_it_back_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.duckdb.lock"
    said: list[str] = []
    waits = threading.Event()
    order: list[str] = []

    def read() -> None:
        def wait() -> None:
            said.append("waiting")
            waits.set()

        with shared_lock(path, wait):
            order.append("read")

    async with file_lock(path) as waited_for:
        assert not waited_for()
        reader = asyncio.create_task(asyncio.to_thread(read))
        assert await asyncio.to_thread(waits.wait, 30)
        assert waited_for()  # the reader holds the turnstile
        assert order == []
    async with file_lock(path):  # at once, as the writer does when more work is queued
        order.append("write")
    await reader
    assert order == ["read", "write"]
    assert said == ["waiting"]


def test_a_reader_of_a_file_no_writer_locked_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "absent.duckdb.lock"
    with shared_lock(path, lambda: pytest.fail("nothing to wait for")):
        pass
    assert list(tmp_path.iterdir()) == []


def _be_present(path: Path, started: multiprocessing.synchronize.Event) -> None:
    async def stay() -> None:
        async with presence(path, _nothing):
            started.set()
            await asyncio.sleep(60)

    asyncio.run(stay())


async def _nothing() -> None:
    return None


async def test_presence_tells_a_run_whether_another_is_alive(tmp_path: Path) -> None:
    path = tmp_path / "runs.lock"
    alone: list[int] = []

    async def cleanup() -> None:
        alone.append(1)

    async with presence(path, cleanup), presence(path, cleanup):  # the first one only is alone
        pass
    assert alone == [1]
    started = multiprocessing.get_context("spawn").Event()
    other = multiprocessing.get_context("spawn").Process(target=_be_present, args=(path, started))
    other.start()
    try:
        assert started.wait(30)
        async with presence(path, cleanup):
            pass
        assert alone == [1]  # another run is alive: no cleanup
        other.kill()  # SIGKILL: the kernel releases its lock
        other.join()
        async with asyncio.timeout(5), presence(path, cleanup):
            pass
        assert alone == [1, 1]
    finally:
        other.kill()
        other.join()
