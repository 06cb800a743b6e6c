"""The client's happy path and GitHub's error shapes, replayed from vcrpy cassettes (no server).

The cassettes in tests/cassettes/ were recorded from the emulator; to record them again:
`GHSYNC_RECORD_CASSETTES=1 .venv/bin/pytest tests/integration/test_client_cassettes.py`.
Requests match on method, path and body (every GraphQL call is a POST to one URL); the
authorization header is filtered out of the files.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import vcr

from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig, started_emulator
from ghsync.errors import (
    AllTokensInvalid,
    GhsyncError,
    RepoNotFound,
    ServerError,
    ServerTimeout,
    TokensExhausted,
)
from ghsync.github.client import GitHubClient
from ghsync.github.ratelimit import Kind
from ghsync.github.tokens import TokenPool

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
RECORD = os.environ.get("GHSYNC_RECORD_CASSETTES") == "1"
NOWHERE = "http://127.0.0.1:9/graphql"  # replay: nothing listens here, vcrpy answers
TOKEN = "ghp_" + "v" * 32 + "VCR0"
REPO = {"owner": "acme", "name": "repo-1"}

Scenario = Callable[[GitHubClient], Awaitable[Any]]


@asynccontextmanager
async def client_for(name: str, setup: Callable[[Emulator], None]) -> AsyncIterator[GitHubClient]:
    """A client whose traffic goes to (recording) or comes from (replay) cassette `name`."""
    recorder = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if RECORD else "none",
        match_on=["method", "path", "body"],
        filter_headers=["authorization"],
    )
    pool = TokenPool([TOKEN], max_wait=0)
    options: dict[str, Any] = {"max_attempts": 1}
    if RECORD:
        config = EmulatorConfig(seed=1, repos=1, prs=20, tokens=(TOKEN,))
        async with started_emulator(config) as emu:
            setup(emu)
            with recorder.use_cassette(f"{name}.yaml"):
                async with GitHubClient(pool, emu.graphql_url, **options) as client:
                    yield client
    else:
        with recorder.use_cassette(f"{name}.yaml"):
            async with GitHubClient(pool, NOWHERE, **options) as client:
                yield client


def no_setup(emu: Emulator) -> None:
    """Recording needs nothing special."""


async def test_happy_path_replayed() -> None:
    async with client_for("happy_path", no_setup) as client:
        viewer = await client.execute("Viewer")
        page = await client.execute("PullRequestPage", {**REPO, "pageSize": 5})
        batch = await client.execute_batch("RepoMetadata", [REPO, {"owner": "acme", "name": "x"}])
    assert viewer["viewer"]["login"] == "viewer-1"
    prs = page["repository"]["pullRequests"]
    assert prs["totalCount"] == 20 and len(prs["nodes"]) == 5
    updated = [node["updatedAt"] for node in prs["nodes"]]
    assert updated == sorted(updated, reverse=True)
    assert batch[0] is not None and batch[0]["nameWithOwner"] == "acme/repo-1"
    assert batch[1] is None
    assert client.pool.statuses()[0].remaining == page["rateLimit"]["remaining"] - 1  # batch: 1


def exhaust(emu: Emulator) -> None:
    emu.set_token_budget(TOKEN, remaining=0, reset_in=1800)


def revoke(emu: Emulator) -> None:
    emu.set_faults(revoke_after={TOKEN: 0})


def storm(emu: Emulator) -> None:
    emu.set_faults(secondary_rate=1.0, secondary_retry_after=7)


def server_errors(emu: Emulator) -> None:
    emu.set_faults(error_rate=1.0)


def timeouts(body: str) -> Callable[[Emulator], None]:
    def setup(emu: Emulator) -> None:
        emu.set_faults(FaultConfig(timeout_node_threshold=100, timeout_body=body))  # type: ignore[arg-type]

    return setup


ERROR_SHAPES: list[
    tuple[str, Callable[[Emulator], None], dict[str, Any], type[GhsyncError], Kind]
] = [
    ("primary_rate_limited", exhaust, {"pageSize": 5}, TokensExhausted, Kind.PRIMARY),
    ("bad_credentials", revoke, {"pageSize": 5}, AllTokensInvalid, Kind.UNAUTHORIZED),
    # the request waits the account's pause out; with max_wait=0 that ends the run at once
    ("secondary_limit", storm, {"pageSize": 5}, TokensExhausted, Kind.SECONDARY),
    ("server_error", server_errors, {"pageSize": 5}, ServerError, Kind.SERVER_ERROR),
    ("timeout_html", timeouts("html"), {"pageSize": 20}, ServerTimeout, Kind.TIMEOUT),
    ("timeout_json", timeouts("json"), {"pageSize": 20}, ServerTimeout, Kind.TIMEOUT),
    ("not_found", no_setup, {"pageSize": 5, "name": "nope"}, RepoNotFound, Kind.NOT_FOUND),
]


@pytest.mark.parametrize(
    ("name", "setup", "variables", "error", "kind"), ERROR_SHAPES, ids=[s[0] for s in ERROR_SHAPES]
)
async def test_error_shape_replayed(
    name: str,
    setup: Callable[[Emulator], None],
    variables: dict[str, Any],
    error: type[GhsyncError],
    kind: Kind,
) -> None:
    async with client_for(name, setup) as client:
        with pytest.raises(error) as caught:
            await client.execute("PullRequestPage", {**REPO, **variables})
    assert client.answers[kind] == 1
    assert TOKEN not in str(caught.value)


async def test_errors_carry_the_status_and_graphql_errors() -> None:
    async with client_for("server_error", server_errors) as client:
        with pytest.raises(ServerError) as server:
            await client.execute("PullRequestPage", {**REPO, "pageSize": 5})
    assert server.value.status == 500 and "HTTP 500: Server Error" in str(server.value)
    async with client_for("not_found", no_setup) as client:
        with pytest.raises(RepoNotFound) as missing:
            await client.execute("PullRequestPage", {**REPO, "pageSize": 5, "name": "nope"})
    assert [error["type"] for error in missing.value.errors] == ["NOT_FOUND"]


def test_cassettes_hold_no_token() -> None:
    files = sorted(CASSETTES.glob("*.yaml"))
    assert len(files) == 1 + len(ERROR_SHAPES)
    for file in files:
        text = file.read_text()
        assert TOKEN not in text and "bearer" not in text.lower()
