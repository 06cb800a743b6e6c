"""What the tasks of one flow run share: the GitHub client, the warehouse path, the options.

Tasks take plain, stable values as parameters (so Prefect can name, cache and show them) and
find the live objects here. Tokens live only inside the client's pool: never in a parameter,
a result, a log line or an artifact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from prefect.client.orchestration import get_client

from flows.slots import Slots
from ghsync import GitHubClient

if TYPE_CHECKING:
    from flows.tasks import Checkpoints


@dataclass(frozen=True)
class SyncOptions:
    """The knobs of one run (flow parameters, resolved)."""

    days_back: int | None
    full: bool
    page_size: int
    check_run_reserve: int
    """Defer check runs when every token has fewer points left than this."""
    checkpoints: Checkpoints
    """The page-fetch tasks, with this run's checkpoint expiration."""


@dataclass(frozen=True)
class Runtime:
    client: GitHubClient
    db_path: Path
    slots: Slots
    options: SyncOptions


LEASE_SECONDS = 60.0
"""Slot leases are renewed while held; a killed holder's slot frees after this long (Prefect's
minimum; its default, 300 s, would stall the next run on the database slot for 5 minutes)."""

_RUNTIME: ContextVar[Runtime] = ContextVar("ghsync_runtime")


def current() -> Runtime:
    """The runtime of the flow run this task belongs to."""
    return _RUNTIME.get()


@contextmanager
def installed(runtime: Runtime) -> Iterator[None]:
    """Make `runtime` the current one for the tasks started inside."""
    token = _RUNTIME.set(runtime)
    try:
        yield
    finally:
        _RUNTIME.reset(token)


def token_limit_name(fingerprint: str) -> str:
    """The global concurrency limit of one token (named from its fingerprint, never the token)."""
    return f"ghsync-token-{fingerprint}"


def db_limit_name(path: Path) -> str:
    """The global concurrency limit (of 1) that serializes writers of one DuckDB file."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    return f"ghsync-db-{digest}"


def token_slot(fingerprint: str) -> AbstractAsyncContextManager[None]:
    """One slot of the token's limit, held around each GitHub request (strict: the limit must
    exist, or Prefect would run unthrottled)."""
    return current().slots.hold(token_limit_name(fingerprint))


def database_slot() -> AbstractAsyncContextManager[None]:
    """The warehouse file's write slot: runs on one file queue instead of failing on its lock."""
    return current().slots.hold(db_limit_name(current().db_path))


async def ensure_limits(fingerprints: list[str], per_token: int, db_path: Path) -> Slots:
    """Create (or update) the per-token limits and the database limit; returns their slot
    pools (close them at the end of the run)."""
    slots = Slots(LEASE_SECONDS)
    db_limit = db_limit_name(db_path)
    async with get_client() as client:
        for fingerprint in fingerprints:
            name = token_limit_name(fingerprint)
            await client.upsert_global_concurrency_limit_by_name(name, per_token)
            slots.add(name, per_token)
        await client.upsert_global_concurrency_limit_by_name(db_limit, 1)
    # The database slot is not kept between writes: a run killed while holding it would block
    # every later writer of the file on a server that never expires leases (the temporary
    # server runs no lease repossessor); a kept token slot only narrows that token's limit.
    slots.add(db_limit, 1, keep=False)
    return slots
