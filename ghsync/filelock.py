"""OS locks on files, which the kernel releases when their holder dies, even by SIGKILL.

`file_lock` and `shared_lock`: the lock of a warehouse file (`lock_path`). DuckDB refuses to
open a file that another process has open for writing, and to open one for writing while
another process has it open at all, with an error. A sync's writer holds the lock exclusively
while it has the file open, ghsync's readers (`ghsync status`, `ghsync sql`) hold it shared
while they read, so each waits for the other instead of failing, and a killed run never blocks
the next one (a Prefect concurrency slot would stay taken on a server that does not expire
leases, as the temporary one does not).

Turns: flock keeps no queue, it grants a free lock to whoever asks first. A writer hands the
file back between bursts of work and asks again at once when more is queued, so a waiting
reader (or writer) would rarely, or never, get in. Every taker therefore passes a turnstile:
it locks `<lock>.turn` exclusively, waits for the lock, and unlocks the turnstile once it holds
the lock. Whoever waits holds the turnstile meanwhile, so the holder, asking again, stops at
the turnstile until the waiting process has the lock: a process waiting when the lock is handed
back goes first, without any timing involved (a brief pause after handing back, the other
way, only works when the waiting process is scheduled within the pause). Readers pass it too,
so a stream of readers cannot starve a waiting writer. And a locked turnstile tells the holder
that someone waits, so it can hand the lock back early (the writer does: `yield_after`).

`presence`: every live run holds a shared lock, so a run that can take it exclusively knows it
is the only one alive, and can clean up after runs that were killed; `anyone_present` asks
whether any process holds it (a sync of a warehouse holds `runs_path`, so `ghsync status` can
tell a run that works on a repository from one that was killed).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path

POLL_SECONDS = 0.05
"""How often a waiting process tries the lock again."""


def runs_path(db_path: Path) -> Path:
    """The file every live sync of a warehouse holds `presence` on (`ghsync status` tells an
    interrupted run from a running one by it)."""
    return db_path.with_name(db_path.name + ".runs")


def anyone_present(path: Path) -> bool:
    """Whether a live process holds `presence` on `path` (a missing file: nobody)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def lock_path(db_path: Path) -> Path:
    """The sidecar lock file of a warehouse file."""
    return db_path.with_name(db_path.name + ".lock")


def turn_path(path: Path) -> Path:
    """The turnstile of the lock at `path` (see the module's docstring)."""
    return path.with_name(path.name + ".turn")


@asynccontextmanager
async def file_lock(path: Path) -> AsyncIterator[Callable[[], bool]]:
    """Hold an exclusive lock on `path` (created if missing, as its turnstile) for the block;
    waits its turn without blocking the event loop while another process holds it. Gives a
    function that tells whether another process waits for the lock meanwhile."""
    with ExitStack() as held:
        turn, lock = (_open_created(name, held) for name in (turn_path(path), path))
        await _lock(turn, fcntl.LOCK_EX)
        await _lock(lock, fcntl.LOCK_EX)
        fcntl.flock(turn, fcntl.LOCK_UN)  # the next in line may wait at the turnstile
        yield lambda: _taken(turn)


@contextmanager
def shared_lock(path: Path, on_wait: Callable[[], None]) -> Iterator[None]:
    """Hold a shared lock on `path` for the block, after its turn: blocks while a writer holds
    it (or waits for it), calling `on_wait` once before it waits.

    Nothing is created: a lock file that does not exist was never taken by a writer (and a
    mistyped path gets no lock file), so there is nothing to wait for.
    """
    with ExitStack() as held:
        turn, lock = (_open_existing(name, held) for name in (turn_path(path), path))
        waited = False
        for descriptor, kind in ((turn, fcntl.LOCK_EX), (lock, fcntl.LOCK_SH)):
            if descriptor is None:
                continue
            try:
                fcntl.flock(descriptor, kind | fcntl.LOCK_NB)
            except BlockingIOError:
                if not waited:
                    on_wait()
                    waited = True
                fcntl.flock(descriptor, kind)  # blocks; the kernel wakes us when it is free
        if turn is not None:
            fcntl.flock(turn, fcntl.LOCK_UN)
        yield


def _taken(descriptor: int) -> bool:
    """True when another process holds a lock on the open file."""
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(descriptor, fcntl.LOCK_UN)
    return False


def _open_created(path: Path, held: ExitStack) -> int:
    """The file (created if missing) opened for locking, closed (and unlocked) with `held`."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    held.callback(os.close, descriptor)
    return descriptor


def _open_existing(path: Path, held: ExitStack) -> int | None:
    """The file opened for locking, closed (and unlocked) with `held`; None if it is missing."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    held.callback(os.close, descriptor)
    return descriptor


@asynccontextmanager
async def presence(path: Path, when_alone: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
    """Hold a shared lock on `path` (created if missing) for the block. When no other process
    holds one, `when_alone` runs first, under an exclusive lock: processes starting meanwhile
    wait for it to finish."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except BlockingIOError:
            alone = False
        if alone:
            await when_alone()
        await _lock(descriptor, fcntl.LOCK_SH)  # converts the exclusive lock, if held
        yield
    finally:
        os.close(descriptor)  # releases the lock


async def _lock(descriptor: int, kind: int) -> None:
    """Take the lock of `kind` on the open file, polling without blocking the event loop."""
    while True:
        try:
            fcntl.flock(descriptor, kind | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            await asyncio.sleep(POLL_SECONDS)
