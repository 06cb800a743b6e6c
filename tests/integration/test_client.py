"""The client against the emulator over loopback: every answer kind of issue 3."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig, started_emulator
from ghsync.errors import (
    AllTokensInvalid,
    ConfigError,
    ConnectionFailed,
    QueryRejected,
    RepoNotFound,
    ResourceLimited,
    ServerTimeout,
    TokensExhausted,
)
from ghsync.github.client import GitHubClient
from ghsync.github.ratelimit import Kind, Quota
from ghsync.github.tokens import TokenPool, TokenState
from tests.clock import T0, FakeClock

A = "ghp_" + "a" * 32 + "AAAA"
B = "ghp_" + "b" * 32 + "BBBB"
C = "ghp_" + "c" * 32 + "CCCC"
BAD = "ghp_" + "x" * 32 + "XXXX"
REPO = {"owner": "acme", "name": "repo-1"}


@asynccontextmanager
async def serve(
    *tokens: str, clock: FakeClock | None = None, **config: Any
) -> AsyncIterator[Emulator]:
    """An emulator on a free loopback port; `tokens` as `TOKEN` or `TOKEN=login`; its
    rate-limit windows on `clock` if given (shared with `connect`: no real waiting)."""
    settings = {"seed": 1, "repos": 1, "prs": 30, "tokens": tokens or (A,), **config}
    timing = {"clock": clock.now} if clock else {}
    async with started_emulator(EmulatorConfig(**settings), **timing) as emu:
        yield emu


@asynccontextmanager
async def connect(
    emu: Emulator,
    *tokens: str,
    max_wait: float = 30.0,
    clock: FakeClock | None = None,
    **options: Any,
) -> AsyncIterator[GitHubClient]:
    options.setdefault("retry_base", 0.01)
    pool = TokenPool(tokens or (A,), max_wait=max_wait, clock=clock)
    async with GitHubClient(pool, emu.graphql_url, **options) as client:
        yield client


async def fetch_all_prs(client: GitHubClient, page_size: int = 10) -> list[int]:
    """PR numbers of repo-1, page by page (UPDATED_AT DESC)."""
    numbers: list[int] = []
    cursor = None
    while True:
        data, page_size = await client.execute_page(
            "PullRequestPage", {**REPO, "cursor": cursor}, page_size
        )
        connection = data["repository"]["pullRequests"]
        numbers += [node["number"] for node in connection["nodes"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return numbers
        cursor = connection["pageInfo"]["endCursor"]


def truth_numbers(emu: Emulator) -> list[int]:
    truth = emu.truth("acme/repo-1")
    assert truth is not None
    return sorted(pr["number"] for pr in truth["pullRequests"])


async def test_happy_path_pages_every_pr_once() -> None:
    async with serve() as emu, connect(emu) as client:
        numbers = await fetch_all_prs(client)
        assert sorted(numbers) == truth_numbers(emu)
        assert client.answers == {Kind.OK: 3}
        assert emu.stats()["points"] == {"token-1": 3}


async def test_enterprise_server_path() -> None:
    async with serve() as emu:
        pool = TokenPool([A])
        async with GitHubClient(pool, f"{emu.url}/api/graphql") as client:
            data = await client.execute("Viewer")
    assert data["viewer"]["login"] == "viewer-1"


async def test_a_web_page_where_the_api_should_be_is_a_config_error() -> None:
    """A GHES URL without /api/graphql answers its sign-in page (200, HTML): no retries."""
    app = web.Application()
    app.router.add_post(
        "/", lambda _: web.Response(text="<html>Sign in</html>", content_type="text/html")
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with GitHubClient(TokenPool([A]), f"http://{host}:{port}/") as client:
            with pytest.raises(ConfigError, match="answered text/html, not GraphQL") as caught:
                await client.execute("Viewer")
    finally:
        await runner.cleanup()
    assert f"http://{host}:{port}/ answered" in str(caught.value)
    assert client.answers == {Kind.NOT_GRAPHQL: 1}


async def test_a_404_where_the_api_should_be_is_a_config_error() -> None:
    """A wrong path on api.github.com answers 404 with JSON (`{"message": "Not Found"}`)."""

    async def not_found(request: web.Request) -> web.Response:
        return web.json_response({"message": "Not Found"}, status=404)

    app = web.Application()
    app.router.add_post("/graphqlx", not_found)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}/graphqlx"
    try:
        async with GitHubClient(TokenPool([A]), url) as client:
            with pytest.raises(ConfigError, match="check GITHUB_GRAPHQL_URL") as caught:
                await client.execute("Viewer")
    finally:
        await runner.cleanup()
    assert f"{url} answered HTTP 404 (Not Found), not GraphQL" in str(caught.value)
    assert client.answers == {Kind.NOT_GRAPHQL: 1}


async def test_a_refused_connection_before_any_answer_is_a_config_error_at_once() -> None:
    """Nothing listens at the URL: no retries (they took 12 s), whatever the attempts left."""
    clock = FakeClock()
    async with serve() as emu:
        url = emu.graphql_url
    pool = TokenPool([A], clock=clock)  # the emulator is gone: its port refuses connections
    async with GitHubClient(pool, url, max_attempts=5) as client:
        with pytest.raises(ConfigError, match="connection refused") as caught:
            await client.execute("Viewer")
    assert f"nothing answers at {url}" in str(caught.value)
    assert "check GITHUB_GRAPHQL_URL" in str(caught.value)
    assert clock.slept == []


async def test_a_refused_connection_after_answers_is_retried() -> None:
    """Once GitHub answered, a refusal is an outage: retried, then ConnectionFailed."""
    clock = FakeClock()
    async with serve() as emu:
        pool = TokenPool([A], clock=clock)
        client = GitHubClient(pool, emu.graphql_url, max_attempts=3)
        await client.__aenter__()
        await client.execute("Viewer")
    try:
        with pytest.raises(ConnectionFailed, match="no answer from"):
            await client.execute("Viewer")
    finally:
        await client.__aexit__(None, None, None)
    assert len(clock.slept) == 2  # the backoff between the 3 attempts


async def test_a_batch_that_times_out_is_split_in_halves() -> None:
    faults = FaultConfig(timeout_node_threshold=2)  # RepoMetadata: one node per item
    async with serve(faults=faults) as emu, connect(emu) as client:
        answers = await client.execute_batch("RepoMetadata", [REPO] * 4)
    assert [a["nameWithOwner"] for a in answers if a] == ["acme/repo-1"] * 4
    assert client.answers == {Kind.TIMEOUT: 1, Kind.OK: 2}


async def test_every_request_holds_a_slot_named_by_fingerprint() -> None:
    held: list[str] = []
    locks: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def slot(fingerprint: str) -> AsyncIterator[None]:
        async with locks.setdefault(fingerprint, asyncio.Semaphore(1)):
            held.append(fingerprint)
            yield

    async with serve() as emu, connect(emu, slot=slot) as client:
        await asyncio.gather(*(client.execute("Viewer") for _ in range(4)))
    assert len(held) == 4 and len(set(held)) == 1
    assert A not in held[0] and len(held[0]) == 12


async def test_identify_learns_accounts_and_budgets() -> None:
    async with serve(f"{A}=alice", f"{B}=alice", C) as emu, connect(emu, A, B, C) as client:
        await client.identify()
    statuses = client.pool.statuses()
    assert [s.login for s in statuses] == ["alice", "alice", "viewer-3"]
    assert [s.remaining for s in statuses] == [4998, 4998, 4999]  # alice's one budget


async def test_one_token_exhausted_mid_run_work_continues_on_the_other() -> None:
    async with serve(A, B) as emu, connect(emu, A, B) as client:
        first = await client.execute("PullRequestPage", {**REPO, "pageSize": 10})
        emu.set_token_budget(A, remaining=0, reset_in=3600)
        emu.set_token_budget(B, remaining=2000)  # so A, with more left, is chosen next
        numbers = await fetch_all_prs(client)
    assert first["repository"]["pullRequests"]["totalCount"] == 30
    assert sorted(numbers) == truth_numbers(emu)
    assert client.answers[Kind.PRIMARY] == 1
    states = [s.state for s in client.pool.statuses()]
    assert states == [TokenState.PARKED, TokenState.READY]


async def test_every_token_exhausted_with_a_reset_soon_waits_then_continues() -> None:
    clock = FakeClock()
    async with serve(A, B, clock=clock) as emu, connect(emu, A, B, clock=clock) as client:
        for token in (A, B):
            emu.set_token_budget(token, remaining=0, reset_in=2)
        numbers = await fetch_all_prs(client)
    assert sorted(numbers) == truth_numbers(emu)
    assert clock.current - T0 >= 2  # the pool waited for the reset (on the shared clock)
    assert client.answers[Kind.PRIMARY] == 2


async def test_every_token_exhausted_for_long_is_a_clear_error() -> None:
    async with serve(A, B) as emu, connect(emu, A, B, max_wait=5) as client:
        for token in (A, B):
            emu.set_token_budget(token, remaining=0, reset_in=1800)
        with pytest.raises(TokensExhausted) as caught:
            await client.execute("Viewer")
    assert caught.value.reset_at.timestamp() > time.time() + 1700
    assert "ghp_…AAAA" in str(caught.value) and "ghp_…BBBB" in str(caught.value)


def secondary_only_first(emu: Emulator) -> Any:
    """A slot factory that turns the secondary storm off once the first request is done."""
    entered: list[str] = []

    @asynccontextmanager
    async def slot(fingerprint: str) -> AsyncIterator[None]:
        if entered:
            emu.set_faults(secondary_rate=0.0)
        entered.append(fingerprint)
        yield

    return slot


@pytest.mark.parametrize("rounds", range(2), ids=["first", "second"])
async def test_secondary_with_retry_after_pauses_the_whole_account(rounds: int) -> None:
    faults = FaultConfig(secondary_rate=1.0, secondary_retry_after=1)
    async with (
        serve(f"{A}=alice", f"{B}=alice", seed=rounds) as emu,
        connect(emu, A, B, slot=secondary_only_first(emu)) as client,
    ):
        for token in client.pool.tokens():
            client.pool.set_login(token, "alice")
        emu.set_faults(faults)
        started = time.monotonic()
        data = await client.execute("Viewer")
        waited = time.monotonic() - started
    assert data["viewer"]["login"] == "alice"
    assert waited >= 1.0
    # one secondary answer, then one good one: no request on alice's account meanwhile
    assert emu.stats()["counters"]["requests"] == 2
    assert client.answers[Kind.SECONDARY] == 1


async def test_secondary_on_one_account_moves_to_another_account_at_once() -> None:
    faults = FaultConfig(secondary_rate=1.0, secondary_retry_after=30)
    async with (
        serve(f"{A}=alice", f"{B}=bob") as emu,
        connect(emu, A, B, slot=secondary_only_first(emu)) as client,
    ):
        a, b = client.pool.tokens()
        client.pool.set_login(a, "alice")
        client.pool.set_login(b, "bob")
        client.pool.record_quota(b, Quota(5000, 4000, time.time() + 99))  # A is chosen first
        emu.set_faults(faults)
        data = await client.execute("Viewer")
    assert data["viewer"]["login"] == "bob"
    assert client.pool.statuses()[0].state is TokenState.PAUSED


@pytest.mark.parametrize("body", ["html", "json"])
async def test_timeout_on_a_page_of_100_is_retried_smaller(body: str) -> None:
    faults = FaultConfig(timeout_node_threshold=15_000, timeout_body=body)  # a page of 50: 11,100
    async with serve(prs=120, faults=faults) as emu, connect(emu) as client:
        data, size = await client.execute_page("PullRequestPage", REPO, 100)
    assert size == 50
    assert len(data["repository"]["pullRequests"]["nodes"]) == 50
    assert client.answers[Kind.TIMEOUT] == 1


async def test_timeout_tells_the_caller_the_smaller_page_size() -> None:
    faults = FaultConfig(timeout_node_threshold=15_000)
    async with serve(faults=faults) as emu, connect(emu) as client:
        with pytest.raises(ServerTimeout) as caught:
            await client.execute("PullRequestPage", {**REPO, "pageSize": 100})
    assert caught.value.smaller_page_size == 50
    assert "first: 50" in str(caught.value)


NESTED = ("labels", "assignees", "closingIssuesReferences", "reviewRequests", "reviews", "commits")


async def test_a_partial_answer_over_the_resource_limit_is_asked_again_smaller() -> None:
    faults = FaultConfig(resource_limit_node_threshold=6000)  # a page of 50: 11,100 nodes
    async with serve(prs=60, faults=faults) as emu, connect(emu) as client:
        data, size = await client.execute_page("PullRequestPage", REPO, 50)
        assert emu.stats()["counters"]["resource_limited"] == 1
    prs = data["repository"]["pullRequests"]["nodes"]
    assert size == 25 and len(prs) == 25
    assert all(pr is not None and all(pr[field] is not None for field in NESTED) for pr in prs)
    assert client.answers == {Kind.RESOURCE_LIMITED: 1, Kind.OK: 1}


async def test_a_batch_over_the_resource_limit_is_split_not_taken_as_missing_items() -> None:
    faults = FaultConfig(resource_limit_node_threshold=2)  # RepoMetadata: one node per item
    async with serve(faults=faults) as emu, connect(emu) as client:
        answers = await client.execute_batch("RepoMetadata", [REPO] * 4)
    assert [a["nameWithOwner"] if a else None for a in answers] == ["acme/repo-1"] * 4
    assert client.answers == {Kind.RESOURCE_LIMITED: 1, Kind.OK: 2}


async def test_over_the_resource_limit_even_at_one_item_ends_in_a_clear_error() -> None:
    """Halving stops at 1; one PR (222 nodes) or one repository still over: retried as a
    timeout would be (max_attempts), then ResourceLimited, no endless loop."""
    faults = FaultConfig(resource_limit_node_threshold=0)
    async with serve(faults=faults) as emu, connect(emu) as client:
        with pytest.raises(ResourceLimited, match="resource limits") as page:
            await client.execute_page("PullRequestPage", REPO, 8)
        assert client.answers == {Kind.RESOURCE_LIMITED: 3 + 5}  # 8, 4, 2; then 1 five times
        with pytest.raises(ResourceLimited, match="resource limits"):
            await client.execute_batch("RepoMetadata", [REPO] * 2)
    assert client.answers == {Kind.RESOURCE_LIMITED: 8 + 1 + 5}
    assert page.value.smaller_page_size is None


async def test_token_revoked_mid_run_is_dropped_and_the_others_continue() -> None:
    faults = FaultConfig(revoke_after={A: 2})
    async with serve(A, B, faults=faults) as emu, connect(emu, A, B) as client:
        emu.set_token_budget(B, remaining=4000)  # A first
        numbers = await fetch_all_prs(client, page_size=5)
    assert sorted(numbers) == truth_numbers(emu)
    assert client.answers[Kind.UNAUTHORIZED] == 1
    assert [s.state for s in client.pool.statuses()] == [TokenState.INVALID, TokenState.READY]


async def test_all_tokens_bad_is_a_clear_error() -> None:
    async with serve(A) as emu, connect(emu, BAD, "ghp_" + "y" * 36) as client:
        with pytest.raises(AllTokensInvalid, match="401 Bad credentials") as caught:
            await client.execute("Viewer")
    assert "ghp_…XXXX" in str(caught.value) and BAD not in str(caught.value)


async def test_random_server_errors_are_retried() -> None:
    faults = FaultConfig(error_rate=0.4)
    async with serve(faults=faults) as emu, connect(emu, max_attempts=8) as client:
        numbers = await fetch_all_prs(client, page_size=5)
    assert sorted(numbers) == truth_numbers(emu)
    assert client.answers[Kind.SERVER_ERROR] >= 1


async def test_dropped_connections_are_retried_then_reported() -> None:
    async with serve(faults=FaultConfig(drop_rate=0.4)) as emu, connect(emu, max_attempts=8) as c:
        numbers = await fetch_all_prs(c, page_size=5)
        assert sorted(numbers) == truth_numbers(emu)
        assert c.answers[Kind.CONNECTION] >= 1
        emu.set_faults(drop_rate=1.0)
        with pytest.raises(ConnectionFailed, match=r"no answer from http://127\.0\.0\.1"):
            await c.execute("Viewer")


async def test_unknown_repo_is_not_retried_and_names_the_repo() -> None:
    async with serve() as emu, connect(emu) as client:
        with pytest.raises(RepoNotFound, match="repository acme/nope was not found"):
            await client.execute(
                "PullRequestPage", {"owner": "acme", "name": "nope", "pageSize": 5}
            )
    assert emu.stats()["counters"]["requests"] == 1


async def test_unknown_repo_in_a_metadata_batch_is_none() -> None:
    items = [{"owner": "acme", "name": "repo-1"}, {"owner": "acme", "name": "nope"}]
    async with serve() as emu, connect(emu) as client:
        first, missing = await client.execute_batch("RepoMetadata", items)
    assert first is not None and first["nameWithOwner"] == "acme/repo-1"
    assert first["pullRequests"]["totalCount"] == 30
    assert missing is None


async def test_pagination_misuse_is_rejected_with_githubs_words() -> None:
    async with serve() as emu, connect(emu) as client:
        with pytest.raises(QueryRejected, match="Requesting 101 records"):
            await client.execute("PullRequestPage", {**REPO, "pageSize": 101})


async def test_a_storm_longer_than_max_attempts_is_weathered() -> None:
    """Seven secondary limits in a row (max_attempts is 3): each is waited out, none fails."""
    async with serve() as emu, connect(emu, max_attempts=3) as client:
        emu.set_faults(secondary_rate=1.0, secondary_retry_after=1)

        async def lift_after_seven() -> None:
            while emu.stats()["counters"].get("secondary", 0) < 7:
                await asyncio.sleep(0.05)
            emu.set_faults(secondary_rate=0.0)

        lifter = asyncio.create_task(lift_after_seven())
        data = await client.execute("PullRequestPage", {**REPO, "pageSize": 5})
        await lifter
    assert len(data["repository"]["pullRequests"]["nodes"]) == 5
    assert client.answers[Kind.SECONDARY] == 7
