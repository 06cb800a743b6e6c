"""Hand-made warehouse rows for tests: sensible defaults plus the fields a test cares about."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from ghsync.frames import CHILD_SCHEMAS, PULL_REQUESTS, PageFrames
from ghsync.tables import PR_TABLES

REPO = "acme/app"
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)  # a Monday, ISO week 2025-W02

Row = dict[str, Any]


def at(hours: float) -> datetime:
    """T0 plus some hours."""
    return T0 + timedelta(hours=hours)


def pr(number: int, **fields: Any) -> Row:
    row: Row = {
        "repo": REPO,
        "number": number,
        "pr_id": f"PR_{number}",
        "database_id": 1000 + number,
        "title": f"PR {number}",
        "body": None,
        "state": "OPEN",
        "is_draft": False,
        "author_login": "alice",
        "author_type": "User",
        "created_at": T0,
        "updated_at": T0,
        "closed_at": None,
        "merged_at": None,
        "additions": 1,
        "deletions": 1,
        "changed_files": 1,
        "base_ref": "main",
        "head_ref": f"branch-{number}",
        "head_sha": f"sha{number}",
        "milestone": None,
        "labels": [],
        "assignees": [],
        "linked_issues": [],
        "requested_reviewers": [],
    }
    return row | fields


def review(number: int, author: str, state: str, submitted_at: datetime | None, **f: Any) -> Row:
    return {
        "repo": REPO,
        "number": number,
        "review_id": None,
        "state": state,
        "author_login": author,
        "submitted_at": submitted_at,
    } | f


def commit(number: int, sha: str, authored_at: datetime, message: str = "change", **f: Any) -> Row:
    return {
        "repo": REPO,
        "number": number,
        "sha": sha,
        "author_login": "alice",
        "author_email": "alice@example.com",
        "author_name": "Alice",
        "authored_at": authored_at,
        "committed_at": authored_at,
        "message": message,
    } | f


def file(number: int, path: str, **f: Any) -> Row:
    row: Row = {"repo": REPO, "number": number, "path": path, "additions": 1, "deletions": 0}
    return row | {"change_type": "MODIFIED"} | f


def check_run(number: int, run_id: int, name: str, conclusion: str | None, **f: Any) -> Row:
    """A completed run on the PR's default head (`sha<number>`), unless told otherwise."""
    return {
        "repo": REPO,
        "number": number,
        "head_sha": f"sha{number}",
        "check_run_id": run_id,
        "app": "GitHub Actions",
        "app_slug": "github-actions",
        "name": name,
        "status": "COMPLETED" if conclusion else "IN_PROGRESS",
        "conclusion": conclusion,
        "started_at": T0,
        "completed_at": T0 + timedelta(seconds=60) if conclusion else None,
    } | f


def status(number: int, context: str, state: str, **f: Any) -> Row:
    row: Row = {"repo": REPO, "number": number, "head_sha": f"sha{number}", "context": context}
    return row | {"state": state, "created_at": T0} | f


def page(
    prs: Sequence[Row],
    reviews: Sequence[Row] = (),
    commits: Sequence[Row] = (),
    files: Sequence[Row] = (),
    check_runs: Sequence[Row] | None = (),
    statuses: Sequence[Row] | None = (),
) -> PageFrames:
    """A PageFrames from rows (None for check runs / statuses: not fetched with this page)."""
    rows = {"pr_reviews": reviews, "pr_commits": commits, "pr_files": files}
    children = {table.name: _frame(table.name, rows.get(table.name, ())) for table in PR_TABLES}
    if check_runs is not None or statuses is not None:
        children["check_runs"] = _frame("check_runs", check_runs or ())
        children["commit_statuses"] = _frame("commit_statuses", statuses or ())
    return PageFrames(pl.DataFrame(list(prs), schema=PULL_REQUESTS), children)


def _frame(table: str, rows: Sequence[Row]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=CHILD_SCHEMAS[table])


def fortnight(*more_check_runs: Row) -> PageFrames:
    """The hand-made fortnight of weeks 2025-W02 and W03 (tests/unit/test_views_weekly.py's
    docstring draws it), with `more_check_runs`."""
    merged = {"state": "MERGED"}
    return page(
        [
            pr(1, merged_at=at(10), body="Generated with Claude Code", **merged),
            pr(2, created_at=at(25), merged_at=at(45), **merged),
            pr(3, created_at=at(48), author_login="bob"),
            pr(4, created_at=at(158), merged_at=at(160), **merged),
            pr(5, created_at=at(192), merged_at=at(232), author_login="bob", **merged),
            pr(6, created_at=datetime(2024, 12, 31, 12, tzinfo=UTC), author_login="dave"),
        ],
        reviews=[
            review(1, "alice", "COMMENTED", at(0.5)),
            review(1, "bob", "APPROVED", at(1)),
            review(2, "bob", "APPROVED", at(28)),
            review(5, "carol", "APPROVED", at(197)),
        ],
        check_runs=[
            check_run(1, 1, "test", "FAILURE"),
            check_run(2, 2, "test", "SUCCESS", started_at=at(25), completed_at=at(25.1)),
            check_run(2, 3, "lint", "SUCCESS", started_at=at(25), completed_at=at(25.1)),
            check_run(3, 4, "test", None, started_at=at(48)),
            *more_check_runs,
        ],
    )
