"""Scenario 8: two `ghsync sync` processes on one database and overlapping repositories at
once: the database file's OS lock (`<db>.lock`) queues their writes, so both finish and the
tables equal the truth. The emulator's gate makes the runs overlap for certain: the run that
asks GitHub first waits there until the other has asked too."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghsync.emulator import EmulatorConfig, FaultConfig
from tests.reliability.conftest import Scenario, assert_equals_truth, fake_tokens


@pytest.mark.scenario("8. Two runs on one database")
def test_two_processes_on_one_database(scenario: Scenario, tmp_path: Path) -> None:
    first, second = fake_tokens("op")
    emulator = scenario.emulator(
        EmulatorConfig(
            seed=109, repos=3, prs=120, tokens=(first, second), faults=FaultConfig(latency_ms=300)
        )
    )
    emulator.set_gate(first, second, timeout=180)
    db = tmp_path / "w.duckdb"
    common = ("--db", str(db), "--full", "--page-size", "10")
    runs = [
        scenario.start_cli(
            "sync", *repos, *common, log=tmp_path / f"run-{token[-1]}.log", GITHUB_TOKENS=token
        )
        for token, repos in (
            (first, ("acme/repo-1", "acme/repo-2")),
            (second, ("acme/repo-2", "acme/repo-3")),
        )
    ]
    codes = [run.wait(timeout=240) for run in runs]
    logs = [(tmp_path / f"run-{token[-1]}.log").read_text() for token in (first, second)]
    assert codes == [0, 0], logs
    # Each process uses its own token. A request of one run was held at the emulator until a
    # request of the other arrived: both runs were at work at the same time.
    gate = emulator.gate()
    assert gate is not None and gate["opened"] == "arrived", gate
    assert gate["held"] >= 1
    assert_equals_truth(db, emulator, "acme/repo-1", "acme/repo-2", "acme/repo-3")
