"""The fan-out of `sync_repos` in one process: the child deployment's runs replaced by subflow
runs of the same flow with the parameters a parent gives them (tests/e2e/test_fan_out.py runs
the real thing, with workers). A child asks GitHub for no metadata, the outcomes come back
through the warehouse, a child that died is run again, and the last failure is the
repository's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from prefect.client.schemas.objects import FlowRun
from prefect.states import Crashed

import flows.fanout
from flows.sync import sync_repos
from ghsync.emulator import Emulator, EmulatorConfig
from ghsync.errors import ConfigError, ReposFailed
from tests.conftest import emulated
from tests.integration.truth import ci_running, differences

TOKENS = tuple(f"ghp_{c * 36}" for c in "jk")
REPOS = ["acme/repo-1", "acme/repo-2", "acme/repo-3", "acme/empty"]
CHILD = "sync-repos/sync-repo"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, prefect_server: str) -> Iterator[Emulator]:
    config = EmulatorConfig(seed=12, repos=3, prs=30, tokens=TOKENS)
    with emulated(monkeypatch, config) as running:
        yield running


class Children:
    """Child runs as subflow runs here; the first `crashes` of them die before they start."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, crashes: int = 0) -> None:
        self.started: list[dict[str, Any]] = []
        self.crashes = crashes
        monkeypatch.setattr(flows.fanout, "arun_deployment", self.run)
        monkeypatch.setattr(flows.fanout, "_check_deployment", self.check)

    async def check(self, name: str) -> None:
        assert name == CHILD

    async def run(self, name: str, **arguments: Any) -> FlowRun:
        assert (name, arguments["timeout"], arguments["as_subflow"]) == (CHILD, None, True)
        parameters = arguments["parameters"]
        self.started.append(parameters)
        if len(self.started) <= self.crashes:
            state = Crashed(message="no heartbeat for 90 s")
        else:
            state = await sync_repos(**parameters, return_state=True)
        return FlowRun(flow_id=uuid4(), name=f"child-{len(self.started)}", state=state)


def truth_of(emulator: Emulator, repo: str) -> list[dict[str, Any]]:
    """The repository's PRs as GitHub has them."""
    truth = emulator.truth(repo)
    assert truth is not None
    prs: list[dict[str, Any]] = truth["pullRequests"]
    return prs


def ops(emulator: Emulator) -> dict[str, int]:
    return {k: v for k, v in emulator.stats()["counters"].items() if k.startswith("op:")}


async def test_children_sync_what_changed_with_the_parents_metadata(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "w.duckdb")
    children = Children(monkeypatch)
    options: dict[str, Any] = {"days_back": None, "ci_recheck_days": 0, "db": db}
    outcomes = await sync_repos(repos=REPOS, fan_out=CHILD, fan_out_prs=60, **options)
    assert {o.repo: o.state for o in outcomes} == {
        "acme/repo-1": "synced",
        "acme/repo-2": "synced",
        "acme/repo-3": "synced",
        "acme/empty": "unchanged",  # no PRs: the parent records it, no child run
    }
    assert [sorted(p["repos"]) for p in children.started] == [
        ["acme/repo-1", "acme/repo-2"],
        ["acme/repo-3"],
    ]
    for parameters in children.started:
        assert parameters["fan_out"] is None and parameters["orgs"] == []
        assert [m["repo"] for m in parameters["metadata"]] == parameters["repos"]
        assert (parameters["db"], parameters["days_back"], parameters["token_secret"]) == (
            db,
            None,
            None,
        )
        assert not any(token in repr(parameters) for token in TOKENS)
    for repo in REPOS:
        truth = emulator.truth(repo)
        assert truth is not None and differences(Path(db), truth) == {}, repo
    # One metadata check, the parent's; with two tokens each run asks whose they are first.
    assert ops(emulator)["op:RepoMetadata"] == 1
    assert ops(emulator)["op:Viewer"] == len(TOKENS) * 3

    emulator.reset_stats()
    again = await sync_repos(repos=REPOS, fan_out=CHILD, **options)
    assert {o.state for o in again} == {"unchanged"}
    # Heads with CI still running: a child run re-polls their repositories' CI (GitHub moves
    # no PR's updatedAt when it ends); no page is asked again, no other repository runs.
    running = [repo for repo in REPOS if any(map(ci_running, truth_of(emulator, repo)))]
    assert running and len(children.started) == 3
    assert sorted(children.started[-1]["repos"]) == running
    assert ops(emulator)["op:RepoMetadata"] == 1 and "op:PullRequestPage" not in ops(emulator)


async def test_a_dead_child_is_run_again_and_the_last_attempt_fails_the_repository(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "w.duckdb")
    options: dict[str, Any] = {"days_back": None, "db": db, "fan_out": CHILD}
    children = Children(monkeypatch, crashes=1)
    outcomes = await sync_repos(repos=["acme/repo-1"], fan_out_attempts=2, **options)
    assert [(o.repo, o.state) for o in outcomes] == [("acme/repo-1", "synced")]
    assert [p["repos"] for p in children.started] == [["acme/repo-1"], ["acme/repo-1"]]

    Children(monkeypatch, crashes=5)
    with pytest.raises(ReposFailed) as failed:
        await sync_repos(repos=["acme/repo-2"], fan_out_attempts=2, **options)
    assert "its flow run child-2 ended Crashed (no heartbeat for 90 s)" in str(failed.value)


async def test_a_missing_child_deployment_is_a_configuration_error(
    emulator: Emulator, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="no deployment 'sync-repos/nope'"):
        await sync_repos(
            repos=["acme/repo-1"], db=str(tmp_path / "w.duckdb"), fan_out="sync-repos/nope"
        )
