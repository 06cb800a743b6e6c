"""OS locks on files, which the kernel releases when their holder dies, even by SIGKILL.

`file_lock`: one process at a time uses a warehouse file. DuckDB refuses a second writer of a
file with an error; the lock makes the writers of one file queue instead, and a killed run never
blocks the next one (a Prefect concurrency slot would stay taken on a server that does not
expire leases, as the temporary one does not).

`presence`: every live run holds a shared lock, so a run that can take it exclusively knows it
is the only one alive, and can clean up after runs that were killed.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

POLL_SECONDS = 0.05
"""How often a waiting process tries the lock again."""


def lock_path(db_path: Path) -> Path:
    """The sidecar lock file of a warehouse file."""
    return db_path.with_name(db_path.name + ".lock")


@asynccontextmanager
async def file_lock(path: Path) -> AsyncIterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the block; waits without
    blocking the event loop while another process holds it."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        await _lock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


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
