"""A token's Prefect concurrency limit that disappears mid-run (deleted by an operator, or a
server that lost it) is created again by the run, which goes on to the truth."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

from flows.runtime import token_limit_name
from flows.sync import sync_repos
from ghsync.emulator import Emulator, EmulatorConfig
from ghsync.filelock import file_lock, lock_path
from ghsync.log import token_fingerprint
from tests.conftest import emulated
from tests.integration.truth import differences

TOKEN = "ghp_" + "s" * 36
LIMIT = token_limit_name(token_fingerprint(TOKEN))


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, prefect_server: str) -> Iterator[Emulator]:
    with emulated(
        monkeypatch, EmulatorConfig(seed=21, repos=1, prs=30, tokens=(TOKEN,))
    ) as running:
        yield running


async def active_slots() -> int | None:
    """The limit's slots in use on the Prefect server, None when it has no such limit."""
    async with get_client() as client:
        try:
            return (await client.read_global_concurrency_limit_by_name(LIMIT)).active_slots
        except ObjectNotFound:
            return None


async def until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + 120  # a safety net only: the condition is a fact to wait for
    while not await condition():  # type: ignore[misc]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_token_limit_deleted_mid_run_is_created_again(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "w.duckdb"

    async def metadata_asked_and_slot_handed_back() -> bool:
        asked = emulator.stats()["counters"].get("op:RepoMetadata", 0) >= 1
        return asked and await active_slots() == 0

    # The test holds the warehouse's lock, as another writer would: the run asks GitHub for
    # the metadata, then waits for the file, its token slot idle and handed back to Prefect.
    async with file_lock(lock_path(db)):
        run = asyncio.create_task(
            sync_repos(repos=["acme/repo-1"], days_back=None, db=str(db), page_size=10)
        )
        await until(metadata_asked_and_slot_handed_back, "the run's first request")
        async with get_client() as client:
            await client.delete_global_concurrency_limit_by_name(LIMIT)
        assert await active_slots() is None
    # Every page is still to fetch: each needs a slot of the limit that is gone.
    [outcome] = await run
    assert outcome.state == "synced"
    assert await active_slots() == 0  # created again by the run, every slot handed back
    assert any("created it again" in record.getMessage() for record in caplog.records)
    truth = emulator.truth("acme/repo-1")
    assert truth is not None
    assert differences(db, truth) == {}
