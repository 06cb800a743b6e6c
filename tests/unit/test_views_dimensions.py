"""ci_check_stats, label_stats, milestone_progress, assignee_load on hand-made rows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from ghsync.warehouse import Warehouse
from tests.unit.warehouse_rows import T0, at, check_run, page, pr


def run(number: int, run_id: int, name: str, conclusion: str | None, seconds: int, **f: object):
    """A check run that took `seconds` (none while running)."""
    finished = T0 + timedelta(seconds=seconds) if conclusion else None
    return check_run(number, run_id, name, conclusion, completed_at=finished, **f)


def test_ci_check_stats(tmp_path: Path) -> None:
    buildkite = {"app": "Buildkite", "app_slug": "buildkite"}
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        warehouse.upsert_page(
            page(
                [pr(n) for n in (1, 2, 3, 4)],
                check_runs=[
                    # "test" on GitHub Actions: PR 1 failed then passed on re-run (flaky),
                    # PR 2 passed, PR 3 failed twice (not flaky), PR 4 still running.
                    run(1, 10, "test", "FAILURE", 100),
                    run(1, 11, "test", "SUCCESS", 60),
                    run(2, 20, "test", "SUCCESS", 120),
                    run(3, 30, "test", "FAILURE", 30),
                    run(3, 31, "test", "FAILURE", 40),
                    run(4, 40, "test", None, 0),
                    run(1, 12, "lint", "CANCELLED", 10),
                    run(2, 21, "deploy", None, 0),
                    run(1, 13, "test", "SUCCESS", 300, **buildkite),
                ],
            )
        )
        rows = warehouse.query(
            "SELECT app, name, runs, failures, failure_rate, median_duration_seconds, flaky_count"
            " FROM ci_check_stats ORDER BY app, name"
        ).rows()
    assert rows == [
        ("Buildkite", "test", 1, 0, 0.0, 300.0, 0),
        ("GitHub Actions", "deploy", 1, 0, None, None, 0),  # nothing completed yet
        ("GitHub Actions", "lint", 1, 1, 1.0, 10.0, 0),  # cancelled counts as failed
        # 6 runs, 3 failed of 5 completed; durations 100, 60, 120, 30, 40 -> median 60
        ("GitHub Actions", "test", 6, 3, 0.6, 60.0, 1),
    ]


def test_label_stats(tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        warehouse.upsert_page(
            page(
                [
                    pr(1, labels=["bug", "ui"], state="MERGED", merged_at=at(10)),
                    pr(2, labels=["bug"]),
                    pr(3),
                    pr(4, labels=["ui"], state="MERGED", merged_at=at(30)),
                    pr(5, labels=["ui"], state="CLOSED", closed_at=at(1)),
                ]
            )
        )
        rows = warehouse.query(
            "SELECT label, prs, open_prs, merged_prs, median_cycle_time_hours FROM label_stats"
            " ORDER BY label"
        ).rows()
    assert rows == [("bug", 2, 1, 1, 10.0), ("ui", 3, 0, 2, 20.0)]


def test_milestone_progress(tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        warehouse.upsert_page(
            page(
                [
                    pr(1, milestone="v1", state="MERGED", merged_at=at(1)),
                    pr(2, milestone="v1"),
                    pr(3, milestone="v1", state="CLOSED", closed_at=at(1)),
                    pr(4, milestone="v2", state="MERGED", merged_at=at(1)),
                    pr(5),  # no milestone: not listed
                ]
            )
        )
        rows = warehouse.query(
            "SELECT milestone, prs, open_prs, merged_prs, closed_prs, merged_share"
            " FROM milestone_progress ORDER BY milestone"
        ).rows()
    assert rows == [("v1", 3, 1, 1, 1, 1 / 3), ("v2", 1, 0, 1, 0, 1.0)]


def test_assignee_load(tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        warehouse.upsert_page(
            page(
                [
                    pr(1, assignees=["alice", "bob"], created_at=at(5)),
                    pr(2, assignees=["bob"], state="MERGED", merged_at=at(9)),  # not open
                    pr(3, assignees=["carol"], state="CLOSED", closed_at=at(9)),  # not open
                ]
            )
        )
        other_repo = pr(7, repo="acme/lib", assignees=["alice"], is_draft=True, created_at=at(1))
        warehouse.upsert_page(page([other_repo]))
        rows = warehouse.query(
            "SELECT assignee, open_prs, open_draft_prs, repos, oldest_open_created_at"
            " FROM assignee_load ORDER BY assignee"
        ).rows()
    assert rows == [("alice", 2, 1, 2, at(1)), ("bob", 1, 0, 1, at(5))]
