"""Scenarios 1-3: GitHub's bad hours (secondary-limit storms, heavy-query timeouts, partial
answers over resource limits, random 5xx and dropped connections) end with the warehouse equal
to the truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.sync import sync_repos
from ghsync.emulator import EmulatorConfig, FaultConfig
from tests.reliability.conftest import Scenario, assert_equals_truth, fake_tokens


@pytest.mark.scenario("1. Secondary-limit storm")
async def test_secondary_limit_storm(scenario: Scenario, tmp_path: Path) -> None:
    faults = FaultConfig(secondary_rate=0.3, secondary_retry_after=1)
    emulator = scenario.emulator(
        EmulatorConfig(seed=101, repos=2, prs=40, tokens=fake_tokens("ab"), faults=faults)
    )
    db = tmp_path / "w.duckdb"
    repos = ["acme/repo-1", "acme/repo-2"]
    outcomes = await sync_repos(repos=repos, days_back=None, db=str(db), page_size=20)
    assert {o.state for o in outcomes} == {"synced"}
    counters = emulator.stats()["counters"]
    assert counters["secondary"] >= 5
    assert_equals_truth(db, emulator, *repos)


@pytest.mark.scenario("2. Heavy-query timeouts")
async def test_heavy_queries_time_out_and_pages_shrink(scenario: Scenario, tmp_path: Path) -> None:
    """Over 2,000 nodes answers 502, in JSON and HTML alternately: a page of 25 PRs (5,550
    nodes) and of 12 (2,664) time out, one of 6 (1,332) does not; so do batches of nested
    follow-ups over ~3 items, which are split."""
    faults = FaultConfig(timeout_node_threshold=2000, timeout_body="mixed")
    emulator = scenario.emulator(
        EmulatorConfig(seed=102, repos=1, prs=50, tokens=fake_tokens("c"), faults=faults)
    )
    db = tmp_path / "w.duckdb"
    [outcome] = await sync_repos(repos=["acme/repo-1"], days_back=None, db=str(db), page_size=25)
    assert outcome.state == "synced"
    counters = emulator.stats()["counters"]
    assert counters["timeouts"] >= 2  # one JSON, one HTML
    assert outcome.pages >= 50 // 6
    assert_equals_truth(db, emulator, "acme/repo-1")


@pytest.mark.scenario("2. Partial answers over resource limits")
async def test_partial_answers_over_resource_limits_are_never_stored(
    scenario: Scenario, tmp_path: Path
) -> None:
    """Over 1,500 nodes answers 200 with a few connections null (whole PRs of a page, nested
    lists) and RESOURCE_LIMITS_EXCEEDED errors: pages of 25 PRs (5,550 nodes) and 12 (2,664)
    are partial, one of 6 (1,332) is whole. Before the client knew it, the repository failed
    with nothing loaded."""
    faults = FaultConfig(resource_limit_node_threshold=1500)
    emulator = scenario.emulator(
        EmulatorConfig(seed=103, repos=1, prs=50, tokens=fake_tokens("t"), faults=faults)
    )
    db = tmp_path / "w.duckdb"
    [outcome] = await sync_repos(repos=["acme/repo-1"], days_back=None, db=str(db), page_size=25)
    assert outcome.state == "synced", outcome.error
    counters = emulator.stats()["counters"]
    assert counters["resource_limited"] >= 2
    assert outcome.pages >= 50 // 6
    assert_equals_truth(db, emulator, "acme/repo-1")


@pytest.mark.scenario("3. Random 5xx and dropped connections")
async def test_random_server_errors_and_drops_for_an_org(
    scenario: Scenario, tmp_path: Path
) -> None:
    """The faults are drawn from the emulator's seeded generator in request order: with seed
    314, the first 25 requests meet 3 drops and 3 server errors (~40 are made)."""
    faults = FaultConfig(error_rate=0.05, drop_rate=0.02)
    emulator = scenario.emulator(
        EmulatorConfig(seed=314, repos=2, prs=40, tokens=fake_tokens("de"), faults=faults)
    )
    db = tmp_path / "w.duckdb"
    outcomes = await sync_repos(orgs=["acme"], days_back=None, db=str(db), page_size=10)
    assert {o.repo: o.state for o in outcomes} == {
        "acme/repo-1": "synced",
        "acme/repo-2": "synced",
        "acme/empty": "unchanged",
    }
    counters = emulator.stats()["counters"]
    errors = sum(counters.get(f"http_{status}", 0) for status in (500, 502, 503))
    assert errors >= 1 and counters.get("dropped", 0) >= 1, counters
    assert_equals_truth(db, emulator, "acme/repo-1", "acme/repo-2", "acme/empty")
