"""GitHub App installations in the client's pool, against the emulator over loopback: tokens
minted with the app's JWT, renewed ahead of expiry and on a 401 without failing the request,
once for concurrent requests; an uninstalled installation dropped like a revoked PAT; a wrong
key a clear error naming the app; each installation its own budget and account."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from ghsync.config import Settings
from ghsync.emulator import Emulator, EmulatorConfig, started_emulator
from ghsync.emulator.apps import InstallationConfig
from ghsync.errors import AllTokensInvalid, ConfigError, ConnectionFailed, Unreachable
from ghsync.github.apps import (
    AppApi,
    AppKey,
    AppKeyRefused,
    InstallationToken,
    app_credentials,
    installation_credentials,
)
from ghsync.github.client import GitHubClient, reading
from ghsync.github.credentials import Credential
from ghsync.github.ratelimit import Kind
from ghsync.github.tokens import TokenPool, TokenState
from tests.apps import APP_ID, OTHER_PRIVATE_KEY, PRIVATE_KEY, PUBLIC_KEY, SLUG, app_config
from tests.clock import FakeClock

PAT = "ghp_" + "p" * 32 + "PPPP"
LIFETIME = 40.0
"""Seconds an installation token works in these tests."""
VIEWER = "Viewer"


@asynccontextmanager
async def serve(clock: FakeClock, *installations: InstallationConfig) -> AsyncIterator[Emulator]:
    config = EmulatorConfig(
        seed=2,
        repos=1,
        prs=5,
        tokens=(PAT,),
        apps=(app_config(*(installations or (InstallationConfig(11, "acme"),))),),
        installation_token_seconds=LIFETIME,
    )
    async with started_emulator(config, clock=clock.now) as emulator:
        yield emulator


def api(emulator: Emulator, clock: FakeClock, key: str = PRIVATE_KEY) -> AppApi:
    return AppApi(emulator.api_url, AppKey(str(APP_ID), key), clock.now)


@asynccontextmanager
async def client(
    emulator: Emulator, clock: FakeClock, *credentials: Credential | str
) -> AsyncIterator[GitHubClient]:
    pool = TokenPool(list(credentials), clock=clock)
    async with GitHubClient(pool, emulator.graphql_url, retry_base=0.01) as connected:
        yield connected


async def test_requests_renew_the_token_ahead_of_its_expiry() -> None:
    clock = FakeClock()
    async with serve(clock) as emulator:
        [installation] = await installation_credentials(api(emulator, clock), None)
        async with client(emulator, clock, installation) as github:
            for _ in range(6):  # 6 x 9 s: the 40 s token is renewed when 3/4 of it is gone
                await github.execute(VIEWER)
                clock.advance(9)
        assert installation.renewals == 2
        assert github.answers[Kind.UNAUTHORIZED] == 0
        assert emulator.stats()["counters"]["installation_tokens"] == 2


@asynccontextmanager
async def expired_at_github() -> AsyncIterator[tuple[GitHubClient, InstallationToken]]:
    """A client of one installation whose token GitHub's clock says expired, while ours says
    it is not due for renewal: its next request meets a 401."""
    clock, github_clock = FakeClock(), FakeClock()
    async with serve(github_clock) as emulator:
        [installation] = await installation_credentials(api(emulator, clock), None)
        async with client(emulator, clock, installation) as github:
            await github.execute(VIEWER)
            github_clock.advance(LIFETIME)
            yield github, installation


async def test_a_401_for_an_expired_token_renews_it_and_the_request_succeeds() -> None:
    async with expired_at_github() as (github, installation):
        data = await github.execute(VIEWER)
    assert data["viewer"]["login"] == f"{SLUG}[bot]"
    assert github.answers[Kind.UNAUTHORIZED] == 1
    assert installation.renewals == 2
    assert [s.state for s in github.pool.statuses()] == [TokenState.READY]


async def test_concurrent_requests_meeting_one_401_renew_once() -> None:
    async with expired_at_github() as (github, installation):
        answers = await asyncio.gather(*(github.execute(VIEWER) for _ in range(8)))
    assert len(answers) == 8  # every request succeeded
    assert github.answers[Kind.UNAUTHORIZED] >= 1  # the first one certainly met the 401
    assert installation.renewals == 2  # however many met it, the token was renewed once


@pytest.mark.parametrize(
    "later", [0.0, LIFETIME], ids=["met-by-a-401", "met-by-the-renewal-ahead-of-expiry"]
)
async def test_an_uninstalled_installation_is_dropped_and_a_pat_goes_on(later: float) -> None:
    clock = FakeClock()
    async with serve(clock) as emulator:
        [installation] = await installation_credentials(api(emulator, clock), None)
        async with client(emulator, clock, installation, PAT) as github:
            await github.identify()
            emulator.uninstall(11)
            clock.advance(later)  # due for renewal: minting answers 404
            for _ in range(3):
                await github.execute(VIEWER)
            states = [s.state for s in github.pool.statuses()]
        assert states == [TokenState.INVALID, TokenState.READY]
        async with client(emulator, clock, installation) as alone:
            with pytest.raises(AllTokensInvalid):
                await alone.execute(VIEWER)


async def test_installations_have_their_own_budgets_not_their_bots() -> None:
    clock = FakeClock()
    installations = (
        InstallationConfig(11, "acme"),
        InstallationConfig(12, "bigcorp", repositories=60, users=30),
    )
    async with serve(clock, *installations) as emulator:
        credentials = await installation_credentials(api(emulator, clock), None)
        async with client(emulator, clock, *credentials, PAT) as github:
            await github.identify()
            statuses = github.pool.statuses()
    # both installations answer `viewer` as the app's bot, yet spend budgets of their own
    assert [s.login for s in statuses] == [f"{SLUG}[bot]", f"{SLUG}[bot]", "viewer-1"]
    assert [s.limit for s in statuses] == [5_000, 7_500, 5_000]
    assert [s.remaining for s in statuses] == [4_999, 7_499, 4_999]
    assert [c.id for c in credentials] == [
        f"app-{APP_ID}-installation-11",
        f"app-{APP_ID}-installation-12",
    ]


async def test_the_ids_stay_while_the_tokens_change() -> None:
    clock = FakeClock()
    async with serve(clock) as emulator:
        [installation] = await installation_credentials(api(emulator, clock), None)
        seen = set()
        for _ in range(3):
            seen.add((installation.id, (await installation.header())["Authorization"]))
            clock.advance(LIFETIME)
    assert len({credential_id for credential_id, _ in seen}) == 1
    assert len(seen) == 3
    assert (installation.mask, installation.target) == ("app-4242/installation-11", "acme")


async def test_a_wrong_key_is_a_clear_error_naming_the_app() -> None:
    clock = FakeClock()
    async with serve(clock) as emulator:
        with pytest.raises(AppKeyRefused, match="GitHub App 4242") as refused:
            await installation_credentials(api(emulator, clock, OTHER_PRIVATE_KEY), None)
    assert "JSON web token could not be decoded" in str(refused.value)


async def test_installations_from_settings() -> None:
    clock = FakeClock()
    installations = (InstallationConfig(11, "acme"), InstallationConfig(12, "bigcorp"))
    async with serve(clock, *installations) as emulator:
        base = {"GITHUB_API_URL": emulator.api_url, "GITHUB_APP_ID": str(APP_ID)}
        every = await app_credentials(
            Settings(**base, GITHUB_APP_PRIVATE_KEY=PRIVATE_KEY), clock=clock.now
        )
        one = await app_credentials(
            Settings(**base, GITHUB_APP_PRIVATE_KEY=PRIVATE_KEY, GITHUB_APP_INSTALLATION_IDS="12"),
            clock=clock.now,
        )
        with pytest.raises(ConfigError, match="has no installation 99"):
            await app_credentials(
                Settings(
                    **base, GITHUB_APP_PRIVATE_KEY=PRIVATE_KEY, GITHUB_APP_INSTALLATION_IDS="99"
                ),
                clock=clock.now,
            )
        with pytest.raises(ConfigError, match="has no private key"):
            await app_credentials(Settings(**base))
        for wrong in ("not a key", PUBLIC_KEY):  # the app's public key is no private key
            with pytest.raises(ConfigError, match="not an RSA private key"):
                await app_credentials(Settings(**base, GITHUB_APP_PRIVATE_KEY=wrong))
    assert [c.installation.id for c in every] == [11, 12]
    assert [c.installation.id for c in one] == [12]
    assert await app_credentials(Settings()) == []


async def test_requests_go_to_the_installation_that_reads_the_owner() -> None:
    clock = FakeClock()
    installations = (InstallationConfig(11, "acme"), InstallationConfig(12, "bigcorp"))
    async with serve(clock, *installations) as emulator:
        acme, bigcorp = await installation_credentials(api(emulator, clock), None)
        async with client(emulator, clock, acme, bigcorp) as github:
            for _ in range(3):
                with reading("ACME"):  # owners compare as GitHub does: ignoring case
                    [repo] = await github.execute_batch(
                        "RepoMetadata", [{"owner": "acme", "name": "repo-1"}]
                    )
                    assert repo is not None
            with reading("zeta"), pytest.raises(Unreachable, match="zeta"):
                await github.execute(VIEWER)
        points = emulator.stats()["points"]
        async with client(emulator, clock, acme, PAT) as mixed:
            with reading("zeta"):
                await mixed.execute(VIEWER)  # a personal token reads what its user can
    assert set(points) == {"installation-11/1"}


async def test_minting_that_fails_for_now_is_retried_as_a_connection_failure() -> None:
    clock = FakeClock()
    async with serve(clock) as emulator:
        [installation] = await installation_credentials(api(emulator, clock), None)
        pool = TokenPool([installation], clock=clock)
        async with GitHubClient(pool, emulator.graphql_url, max_attempts=2) as github:
            installation.api.api_url = "http://127.0.0.1:9"  # the App API is unreachable
            with pytest.raises(ConnectionFailed, match="access_tokens"):
                await github.execute(VIEWER)
            installation.api.api_url = emulator.api_url  # back: the next request mints
            await github.execute(VIEWER)
    assert installation.renewals == 1
    assert [s.state for s in pool.statuses()] == [TokenState.READY]
