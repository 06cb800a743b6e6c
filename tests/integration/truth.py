"""The warehouse compared with the emulator's ground truth, table by table, as sets of rows.

Expected rows are written from the truth dump directly (not through ghsync.records), so a
mapping bug shows up as a difference instead of being repeated on both sides.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import duckdb

from ghsync.lake import Lake, Location

Row = tuple[Any, ...]


def ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def expected_rows(truth: dict[str, Any]) -> dict[str, set[Row]]:
    """Every table's rows for one repository, from `Emulator.truth(repo)`."""
    repo = truth["repo"]
    tables: dict[str, set[Row]] = {name: set() for name in QUERIES}
    for pr in truth["pullRequests"]:
        n = pr["number"]
        tables["pull_requests"].add(
            (
                repo,
                n,
                pr["id"],
                pr["title"],
                pr["body"],
                pr["state"],
                pr["isDraft"],
                pr["author"],
                ts(pr["createdAt"]),
                ts(pr["updatedAt"]),
                ts(pr["closedAt"]),
                ts(pr["mergedAt"]),
                pr["additions"],
                pr["deletions"],
                pr["changedFiles"],
                pr["baseRefName"],
                pr["headRefName"],
                pr["headRefOid"],
                pr["milestone"],
                tuple(sorted(pr["labels"])),
                tuple(sorted(pr["assignees"])),
                tuple(sorted(pr["linkedIssues"])),
                tuple(sorted(pr["requestedReviewers"])),
            )
        )
        tables["pr_reviews"] |= {
            (repo, n, r["databaseId"], r["state"], r["author"], ts(r["submittedAt"]))
            for r in pr["reviews"]
        }
        tables["pr_commits"] |= {
            (
                repo,
                n,
                c["oid"],
                c["authorLogin"],
                c["authorEmail"],
                ts(c["authoredDate"]),
                ts(c["committedDate"]),
                c["message"],
            )
            for c in pr["commits"]
        }
        tables["pr_files"] |= {
            (repo, n, f["path"], f["additions"], f["deletions"], f["changeType"])
            for f in pr["files"]
        }
        tables["check_runs"] |= {
            (
                repo,
                n,
                pr["headRefOid"],
                r["databaseId"],
                r["app"],
                r["name"],
                r["status"],
                r["conclusion"],
                ts(r["startedAt"]),
                ts(r["completedAt"]),
            )
            for r in pr["checkRuns"]
        }
        tables["commit_statuses"] |= {
            (repo, n, pr["headRefOid"], s["context"], s["state"], ts(s["createdAt"]))
            for s in pr["statuses"]
        }
    return tables


QUERIES = {
    "pull_requests": "SELECT repo, number, pr_id, title, body, state, is_draft, author_login, "
    "created_at, updated_at, closed_at, merged_at, additions, deletions, changed_files, base_ref, "
    "head_ref, head_sha, milestone, list_sort(labels), list_sort(assignees), "
    "list_sort(linked_issues), list_sort(requested_reviewers) FROM pull_requests",
    "pr_reviews": "SELECT repo, number, review_id, state, author_login, submitted_at "
    "FROM pr_reviews",
    "pr_commits": "SELECT repo, number, sha, author_login, author_email, authored_at, "
    "committed_at, message FROM pr_commits",
    "pr_files": "SELECT repo, number, path, additions, deletions, change_type FROM pr_files",
    "check_runs": "SELECT repo, number, head_sha, check_run_id, app_slug, name, status, "
    "conclusion, started_at, completed_at FROM check_runs",
    "commit_statuses": "SELECT repo, number, head_sha, context, state, created_at "
    "FROM commit_statuses",
}


def connect(db: Location) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse file or DuckLake `db`, in UTC."""
    if isinstance(db, Lake):
        connection = duckdb.connect()
        db.attach(connection, read_only=True)
    else:
        connection = duckdb.connect(str(db), read_only=True)
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def actual_rows(db: Location, repo: str) -> dict[str, set[Row]]:
    """Every table's rows for one repository, read from the warehouse."""
    with connect(db) as connection:
        return {
            table: {
                _freeze(row)
                for row in connection.execute(
                    f"SELECT * FROM ({sql}) WHERE repo = ?", [repo]
                ).fetchall()
            }
            for table, sql in QUERIES.items()
        }


def _freeze(row: Row) -> Row:
    return tuple(tuple(v) if isinstance(v, list) else v for v in row)


CI_TABLES = ("check_runs", "commit_statuses")


def differences(
    db: Location, truth: dict[str, Any], ci_pending: Collection[int] = ()
) -> dict[str, dict[str, list[Row]]]:
    """Per table, rows missing from the warehouse and rows it has that GitHub has not; the CI
    rows of the PRs `ci_pending` (their head commits pending in `sync_state`: the sync loads a
    page's CI after the page) are left out on both sides."""
    expected, actual = expected_rows(truth), actual_rows(db, truth["repo"])
    for table in CI_TABLES:
        for rows in (expected, actual):
            rows[table] = {row for row in rows[table] if row[1] not in ci_pending}
    found = {}
    for table in QUERIES:
        missing, extra = expected[table] - actual[table], actual[table] - expected[table]
        if missing or extra:
            found[table] = {
                "missing": sorted(missing, key=str)[:3],
                "extra": sorted(extra, key=str)[:3],
            }
    return found


def ci_running(pr: dict[str, Any]) -> bool:
    """Whether a PR of the truth dump has CI still running on its head commit (a check run
    not completed or a pending status): the sync keeps such a head to re-poll."""
    runs = any(run["status"] != "COMPLETED" for run in pr["checkRuns"])
    return runs or any(status["state"] == "PENDING" for status in pr["statuses"])
