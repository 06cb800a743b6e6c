"""What the tasks of one flow run share: the GitHub client, the warehouse path, the options.

Tasks take plain, stable values as parameters (so Prefect can name, cache and show them) and
find the live objects here. Tokens live only inside the client's pool: never in a parameter,
a result, a log line or an artifact.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from prefect.client.orchestration import get_client
from prefect.concurrency.asyncio import concurrency

from ghsync.github.client import GitHubClient

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
    db_limit: str
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
    return concurrency(
        token_limit_name(fingerprint), occupy=1, strict=True, lease_duration=LEASE_SECONDS
    )


@asynccontextmanager
async def database_slot() -> AsyncIterator[None]:
    """The warehouse file's write slot: runs on one file queue instead of failing on its lock."""
    async with concurrency(current().db_limit, occupy=1, strict=True, lease_duration=LEASE_SECONDS):
        yield


async def ensure_limits(fingerprints: list[str], per_token: int, db_path: Path) -> str:
    """Create (or update) the per-token limits and the database limit; returns the latter."""
    db_limit = db_limit_name(db_path)
    async with get_client() as client:
        for fingerprint in fingerprints:
            await client.upsert_global_concurrency_limit_by_name(
                token_limit_name(fingerprint), per_token
            )
        await client.upsert_global_concurrency_limit_by_name(db_limit, 1)
    return db_limit
