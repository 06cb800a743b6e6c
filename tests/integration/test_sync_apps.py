"""Syncs as a GitHub App: installations alone or mixed with personal tokens equal the truth;
installation tokens that expire every couple of seconds are renewed many times during one
sync, which never fails nor asks a page twice; one Prefect limit per installation whatever
its tokens; an installation removed mid-run is dropped like a revoked token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client

from flows.sync import sync_repos
from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig
from ghsync.emulator.apps import InstallationConfig
from ghsync.errors import ConfigError, ReposFailed, Unreachable
from tests.apps import APP_ID, PRIVATE_KEY, app_config
from tests.conftest import emulated
from tests.integration.truth import differences

PAT = "ghp_" + "m" * 36
REPOS = ["acme/repo-1", "acme/repo-2"]
INSTALLATION = f"app-{APP_ID}-installation-11"
LIMIT = f"ghsync-token-{INSTALLATION}"
"""Its Prefect concurrency limit: named by its stable id, whatever token it holds."""


@contextmanager
def as_app(
    monkeypatch: pytest.MonkeyPatch,
    *,
    with_pat: bool,
    token_seconds: float = 3600.0,
    faults: FaultConfig | None = None,
    prs: int = 12,
) -> Iterator[Emulator]:
    """An emulator serving the test app (installations 11 and 12), the flow pointed at it as
    that app, with a personal token too when `with_pat`."""
    installations = (InstallationConfig(11, "acme"), InstallationConfig(12, "acme-labs"))
    config = EmulatorConfig(
        seed=21,
        repos=2,
        prs=prs,
        tokens=(PAT,),
        apps=(app_config(*installations),),
        installation_token_seconds=token_seconds,
        faults=faults or FaultConfig(),
    )
    with emulated(monkeypatch, config) as emulator:
        if not with_pat:
            monkeypatch.delenv("GITHUB_TOKENS")
        monkeypatch.setenv("GITHUB_API_URL", emulator.api_url)
        monkeypatch.setenv("GITHUB_APP_ID", str(APP_ID))
        monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", PRIVATE_KEY)
        yield emulator


def assert_truth(emulator: Emulator, db: Path) -> None:
    for repo in REPOS:
        truth = emulator.truth(repo)
        assert truth is not None and differences(db, truth) == {}, repo


async def limit_names() -> set[str]:
    async with get_client() as client:
        limits = await client.read_global_concurrency_limits(limit=200)
    return {limit.name for limit in limits if limit.name.startswith("ghsync-token-app-")}


async def test_an_app_only_sync_equals_the_truth(
    monkeypatch: pytest.MonkeyPatch, prefect_server: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("GITHUB_APP_INSTALLATION_IDS", "11")
    with as_app(monkeypatch, with_pat=False) as emulator:
        outcomes = await sync_repos(repos=REPOS, days_back=None, db=str(tmp_path / "w.duckdb"))
        assert [o.state for o in outcomes] == ["synced", "synced"]
        assert_truth(emulator, tmp_path / "w.duckdb")
        points = emulator.stats()["points"]
    assert set(points) == {"installation-11/1"}  # one token minted, the PAT never used


async def test_a_mixed_pool_syncs_with_installations_and_tokens(
    monkeypatch: pytest.MonkeyPatch, prefect_server: str, tmp_path: Path
) -> None:
    with as_app(monkeypatch, with_pat=True) as emulator:
        await sync_repos(repos=REPOS, days_back=None, db=str(tmp_path / "w.duckdb"))
        assert_truth(emulator, tmp_path / "w.duckdb")
        counters = emulator.stats()["counters"]
        points = emulator.stats()["points"]
    assert counters["op:Viewer"] == 3  # the PAT and both installations: whose budget is whose
    assert counters["installation_tokens"] == 2
    # the acme-labs installation cannot read acme's repositories: asked nothing but `viewer`
    assert points["installation-12/1"] == 1 and points["installation-11/1"] > 1
    assert await limit_names() == {LIMIT, f"ghsync-token-app-{APP_ID}-installation-12"}


async def test_tokens_expiring_every_two_seconds_are_renewed_without_a_failure(
    monkeypatch: pytest.MonkeyPatch, prefect_server: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("GITHUB_APP_INSTALLATION_IDS", "11")
    # A repository's pages are asked one after another (each needs the last one's cursor):
    # 8 pages of 800 ms take 6.4 s at least, so 2-second tokens must be renewed 3 times or
    # more, however fast the machine (a shorter latency let a quick run need fewer).
    slow = FaultConfig(latency_ms=800)
    with as_app(monkeypatch, with_pat=False, token_seconds=2, faults=slow, prs=40) as emulator:
        outcomes = await sync_repos(
            repos=REPOS, days_back=None, db=str(tmp_path / "w.duckdb"), page_size=5
        )
        assert_truth(emulator, tmp_path / "w.duckdb")
        counters = emulator.stats()["counters"]
    assert [o.state for o in outcomes] == ["synced", "synced"]
    assert counters["installation_tokens"] >= 4  # renewed again and again in one sync
    assert counters["op:PullRequestPage"] == sum(o.pages for o in outcomes)  # none asked twice
    names = await limit_names()  # one limit for the installation, however many tokens it had
    assert LIMIT in names and names <= {LIMIT, f"ghsync-token-app-{APP_ID}-installation-12"}


async def test_an_installation_removed_mid_run_is_dropped_and_the_token_goes_on(
    monkeypatch: pytest.MonkeyPatch, prefect_server: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("GITHUB_APP_INSTALLATION_IDS", "11")
    gone = FaultConfig(uninstall_after={11: 3})
    with as_app(monkeypatch, with_pat=True, faults=gone) as emulator:
        await sync_repos(repos=REPOS, days_back=None, db=str(tmp_path / "w.duckdb"))
        assert_truth(emulator, tmp_path / "w.duckdb")
    alone = FaultConfig(uninstall_after={11: 3})
    with (
        as_app(monkeypatch, with_pat=False, faults=alone),
        pytest.raises(ReposFailed),  # alone, the app cannot finish: said, not hidden
    ):
        await sync_repos(repos=REPOS, days_back=None, db=str(tmp_path / "alone.duckdb"))


async def test_the_app_key_from_a_secret_block(
    monkeypatch: pytest.MonkeyPatch, prefect_server: str, tmp_path: Path
) -> None:
    await Secret(value=PRIVATE_KEY).save("github-app-key-test", overwrite=True)
    monkeypatch.setenv("GITHUB_APP_INSTALLATION_IDS", "11")
    with as_app(monkeypatch, with_pat=False) as emulator:
        monkeypatch.delenv("GITHUB_APP_PRIVATE_KEY")
        db = tmp_path / "w.duckdb"
        await sync_repos(
            repos=REPOS, days_back=None, db=str(db), app_key_secret="github-app-key-test"
        )
        assert_truth(emulator, db)
        with pytest.raises(
            ConfigError, match=r"no Prefect Secret block named 'nope'.*app_key_secret"
        ):
            await sync_repos(repos=REPOS, db=str(db), app_key_secret="nope")


async def test_repositories_of_an_account_no_credential_reads_are_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, prefect_server: str, tmp_path: Path
) -> None:
    with as_app(monkeypatch, with_pat=False), pytest.raises(Unreachable, match="install the"):
        await sync_repos(repos=["zeta/repo-1"], db=str(tmp_path / "w.duckdb"))
