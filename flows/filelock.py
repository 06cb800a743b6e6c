"""An OS lock on a sidecar file: one process at a time uses a warehouse file.

DuckDB refuses a second writer of a file with an error; the lock makes the writers of one file
queue instead. The kernel releases it when its holder dies, even by SIGKILL, so a killed run
never blocks the next one (a Prefect concurrency slot would stay taken on a server that does not
expire leases, as the temporary one does not).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
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
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
