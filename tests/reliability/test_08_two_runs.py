"""Scenario 8: two `ghsync sync` processes on one database and overlapping repositories at
once: the database file's OS lock (`<db>.lock`) queues their writes, so both finish and the
tables equal the truth."""

from __future__ import annotations

import time
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
    # Each process uses its own token: the two tokens' spending overlapping in time shows
    # the runs did (their writes had to be queued).
    spans: dict[str, list[float]] = {}
    last: dict[str, int] = {}
    deadline = time.monotonic() + 240
    while any(run.poll() is None for run in runs) and time.monotonic() < deadline:
        for label, points in emulator.stats()["points"].items():
            if points > last.get(label, 0):
                spans.setdefault(label, []).append(time.monotonic())
                last[label] = points
        time.sleep(0.05)
    codes = [run.wait(timeout=240) for run in runs]
    logs = [(tmp_path / f"run-{token[-1]}.log").read_text() for token in (first, second)]
    assert codes == [0, 0], logs
    (start_1, *_, end_1), (start_2, *_, end_2) = spans["token-1"], spans["token-2"]
    assert max(start_1, start_2) < min(end_1, end_2), "the two runs did not overlap"
    assert_equals_truth(db, emulator, "acme/repo-1", "acme/repo-2", "acme/repo-3")
