"""pr_metrics on hand-made PRs; every expected value is worked out in the comments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ghsync.warehouse import Warehouse
from tests.unit.warehouse_rows import (
    T0,
    at,
    check_run,
    commit,
    file,
    page,
    pr,
    review,
    status,
)

CLAUDE_BODY = "Adds X.\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)"
CLAUDE_TRAILER = "fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>"


@pytest.fixture
def metrics(tmp_path: Path) -> dict[int, dict[str, Any]]:
    warehouse = Warehouse.open(tmp_path / "w.duckdb")
    warehouse.upsert_page(
        page(
            [
                # 1: merged after 30 h, 30 + 10 lines (S), AI evidence in body and trailer
                pr(
                    1,
                    state="MERGED",
                    merged_at=at(30),
                    additions=30,
                    deletions=10,
                    body=CLAUDE_BODY,
                ),
                # 2: nothing at all: no reviews, commits, files or CI; 0 lines (XS)
                pr(2, additions=0, deletions=0),
                # 3: closed unmerged, reviewed only by its author, 1000 lines (XL), a bot author
                pr(
                    3,
                    state="CLOSED",
                    closed_at=at(50),
                    additions=900,
                    deletions=100,
                    author_login="devin-ai-integration",
                    author_type="Bot",
                ),
                # 4: CI from a pending legacy status beside a green check run
                pr(4),
                # 5: CI from an erroring legacy status only
                pr(5),
            ],
            reviews=[
                review(1, "alice", "COMMENTED", at(1)),  # the author: not a review
                review(1, "bob", "COMMENTED", at(2)),  # first peer review: 2 h
                review(1, "bob", "CHANGES_REQUESTED", at(4)),
                review(1, "carol", "APPROVED", at(20)),
                review(1, "dave", "PENDING", None),  # not submitted: ignored
                review(3, "devin-ai-integration", "COMMENTED", at(3)),  # its author again
            ],
            commits=[
                commit(1, "c1", at(-5)),  # first commit 5 h before the PR opened
                commit(1, "c2", at(-2), message=CLAUDE_TRAILER),
                commit(3, "c3", at(1)),  # authored after opening: coding time 0
            ],
            files=[file(1, "a.py"), file(1, "b.py"), file(3, "c.py")],
            check_runs=[
                check_run(1, 10, "test", "FAILURE"),
                check_run(1, 11, "test", "SUCCESS"),  # the re-run supersedes the failure
                check_run(1, 12, "lint", "SKIPPED"),  # skipped counts as success
                check_run(1, 5, "test", "FAILURE", head_sha="old"),  # an earlier head: ignored
                check_run(3, 30, "test", None),  # in progress ...
                check_run(3, 31, "lint", "TIMED_OUT"),  # ... but a failure wins
                check_run(4, 40, "test", "SUCCESS"),
            ],
            statuses=[status(4, "ci/legacy", "PENDING"), status(5, "ci/legacy", "ERROR")],
        )
    )
    rows = warehouse.query("SELECT * FROM pr_metrics").to_dicts()
    warehouse.close()
    return {row["number"]: row for row in rows}


def test_merged_reviewed_pr(metrics: dict[int, dict[str, Any]]) -> None:
    row = metrics[1]
    assert row["created_at"] == T0
    assert row["cycle_time_hours"] == 30
    assert row["coding_time_hours"] == 5
    assert row["first_review_hours"] == 2
    assert (row["approvals"], row["changes_requested"], row["review_count"]) == (1, 1, 3)
    assert (row["commits"], row["files"], row["additions"], row["deletions"]) == (2, 2, 30, 10)
    assert row["size_bucket"] == "S"
    assert row["ci_state"] == "SUCCESS"
    assert row["ai_assisted"] is True
    assert row["ai_signals"] == ["coauthor:Claude", "marker:Claude", "marker:unspecified"]


def test_pr_without_reviews_commits_files_or_ci(metrics: dict[int, dict[str, Any]]) -> None:
    row = metrics[2]
    assert row["cycle_time_hours"] is None
    assert row["coding_time_hours"] is None
    assert row["first_review_hours"] is None
    assert (row["approvals"], row["changes_requested"], row["review_count"]) == (0, 0, 0)
    assert (row["commits"], row["files"]) == (0, 0)
    assert row["size_bucket"] == "XS"
    assert row["ci_state"] is None
    assert row["ai_assisted"] is False
    assert row["ai_signals"] == []


def test_unmerged_pr_reviewed_only_by_its_author(metrics: dict[int, dict[str, Any]]) -> None:
    row = metrics[3]
    assert row["state"] == "CLOSED"
    assert row["merged_at"] is None
    assert row["cycle_time_hours"] is None
    assert row["first_review_hours"] is None
    assert row["review_count"] == 0
    assert row["coding_time_hours"] == 0
    assert row["size_bucket"] == "XL"
    assert row["ci_state"] == "FAILURE"
    assert row["ai_signals"] == ["author:Devin"]


@pytest.mark.parametrize(
    ("number", "ci_state"),
    [(4, "PENDING"), (5, "FAILURE")],
    ids=["pending-status-beside-green-check", "error-status-only"],
)
def test_legacy_statuses_count_in_ci_state(
    metrics: dict[int, dict[str, Any]], number: int, ci_state: str
) -> None:
    assert metrics[number]["ci_state"] == ci_state


@pytest.mark.parametrize(
    ("lines", "bucket"),
    [
        (0, "XS"),
        (9, "XS"),
        (10, "S"),
        (49, "S"),
        (50, "M"),
        (249, "M"),
        (250, "L"),
        (999, "L"),
        (1000, "XL"),
        (50000, "XL"),
    ],
    ids=lambda value: str(value),
)
def test_size_bucket_bounds(tmp_path: Path, lines: int, bucket: str) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        warehouse.upsert_page(page([pr(1, additions=lines - lines // 3, deletions=lines // 3)]))
        assert warehouse.query("SELECT size_bucket FROM pr_metrics").item() == bucket
