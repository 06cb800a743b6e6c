"""GraphQL-shaped nodes (as PullRequestPage / CheckRuns return them) -> warehouse frames."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ghsync.ci import PendingCheck
from ghsync.records import check_run_frames, map_repositories, page_frames, reviewer_name
from ghsync.warehouse import SyncState, Warehouse

REPO = "acme/app"


def connection(*nodes: Any) -> dict[str, Any]:
    return {"totalCount": len(nodes), "pageInfo": {"hasNextPage": False}, "nodes": list(nodes)}


def pr_node(number: int, **fields: Any) -> dict[str, Any]:
    node = {
        "id": f"PR_kw{number}",
        "fullDatabaseId": str(9_000_000_000 + number),  # BigInt arrives as a string
        "number": number,
        "title": f"PR {number}",
        "body": "",
        "state": "MERGED",
        "isDraft": False,
        "createdAt": "2025-01-06T09:00:00Z",
        "updatedAt": "2025-01-07T10:30:00Z",
        "closedAt": "2025-01-07T10:00:00Z",
        "mergedAt": "2025-01-07T10:00:00Z",
        "additions": 12,
        "deletions": 3,
        "changedFiles": 2,
        "baseRefName": "main",
        "headRefName": "feature",
        "headRefOid": f"oid{number}",
        "author": {"__typename": "User", "login": "alice"},
        "milestone": {"title": "v1"},
        "labels": connection({"name": "bug"}, {"name": "ui"}),
        "assignees": connection({"login": "bob"}),
        "closingIssuesReferences": connection({"number": 41}, {"number": 42}),
        "reviewRequests": connection(
            {"requestedReviewer": {"__typename": "User", "login": "carol"}},
            {"requestedReviewer": {"__typename": "Team", "slug": "core"}},
            {"requestedReviewer": None},  # a deleted reviewer
        ),
        "reviews": connection(
            {
                "id": "PRR_1",
                "fullDatabaseId": "77",
                "state": "APPROVED",
                "submittedAt": "2025-01-06T11:00:00Z",
                "author": {"__typename": "User", "login": "carol"},
            },
            {"id": "PRR_2", "fullDatabaseId": "78", "state": "PENDING", "submittedAt": None}
            | {"author": None},
        ),
        "commits": connection(
            {
                "commit": {
                    "id": "C_a",
                    "oid": "aaa",
                    "message": "Fix\n\nCo-authored-by: Claude <noreply@anthropic.com>",
                    "authoredDate": "2025-01-06T08:00:00+01:00",
                    "committedDate": "2025-01-06T08:30:00Z",
                    "author": {"email": "a@x.org", "name": "Alice", "user": {"login": "alice"}},
                }
            },
            None,  # a node hidden from the token
            {
                "commit": {
                    "id": "C_b",
                    "oid": "bbb",
                    "message": "More",
                    "authoredDate": "2025-01-06T08:40:00Z",
                    "committedDate": "2025-01-06T08:40:00Z",
                    "author": {"email": "ghost@x.org", "name": "Ghost", "user": None},
                }
            },
        ),
        "headCommit": connection({"commit": {"id": f"C_head{number}", "oid": f"oid{number}"}}),
        "files": connection(
            {"path": "a.py", "additions": 10, "deletions": 3, "changeType": "MODIFIED"},
            {"path": "b.py", "additions": 2, "deletions": 0, "changeType": "ADDED"},
        ),
    }
    return node | fields


def commit_checks(number: int) -> dict[str, Any]:
    suite = {
        "id": "CS_1",
        "status": "IN_PROGRESS",
        "app": {"name": "GitHub Actions", "slug": "github-actions"},
        "checkRuns": connection(
            {
                "id": "CR_1",
                "databaseId": 501,
                "name": "test",
                "status": "COMPLETED",
                "conclusion": "FAILURE",
                "startedAt": "2025-01-06T09:05:00Z",
                "completedAt": "2025-01-06T09:07:00Z",
            },
            {
                "id": "CR_2",
                "databaseId": 502,
                "name": "test",
                "status": "IN_PROGRESS",
                "conclusion": None,
                "startedAt": "2025-01-06T09:10:00Z",
                "completedAt": None,
            },
        ),
    }
    orphan = {"id": "CS_2", "status": "COMPLETED", "app": None, "checkRuns": connection()}
    return {
        "id": f"C_head{number}",
        "oid": f"oid{number}",
        "checkSuites": connection(suite, orphan),
        "status": {
            "contexts": [
                {"context": "ci/jenkins", "state": "SUCCESS", "createdAt": "2025-01-06T09:03:00Z"}
            ]
        },
    }


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_pull_request_row() -> None:
    frames, _ = page_frames(REPO, [pr_node(7)])  # type: ignore[list-item]
    assert frames.pull_requests.to_dicts() == [
        {
            "repo": REPO,
            "number": 7,
            "pr_id": "PR_kw7",
            "database_id": 9_000_000_007,
            "title": "PR 7",
            "body": "",
            "state": "MERGED",
            "is_draft": False,
            "author_login": "alice",
            "author_type": "User",
            "created_at": utc("2025-01-06T09:00:00Z"),
            "updated_at": utc("2025-01-07T10:30:00Z"),
            "closed_at": utc("2025-01-07T10:00:00Z"),
            "merged_at": utc("2025-01-07T10:00:00Z"),
            "additions": 12,
            "deletions": 3,
            "changed_files": 2,
            "base_ref": "main",
            "head_ref": "feature",
            "head_sha": "oid7",
            "milestone": "v1",
            "labels": ["bug", "ui"],
            "assignees": ["bob"],
            "linked_issues": [41, 42],
            "requested_reviewers": ["carol", "acme/core"],
            "head_commit_id": "C_head7",
        }
    ]


def test_child_rows() -> None:
    frames, counts = page_frames(REPO, [pr_node(7)])  # type: ignore[list-item]
    assert frames.children["pr_reviews"].drop("repo", "number").rows() == [
        (77, "APPROVED", "carol", utc("2025-01-06T11:00:00Z")),
        (78, "PENDING", None, None),
    ]
    assert frames.children["pr_commits"].drop("repo", "number", "message").rows() == [
        # an offset timestamp is stored in UTC
        (
            "aaa",
            "alice",
            "a@x.org",
            "Alice",
            utc("2025-01-06T07:00:00Z"),
            utc("2025-01-06T08:30:00Z"),
        ),
        (
            "bbb",
            None,
            "ghost@x.org",
            "Ghost",
            utc("2025-01-06T08:40:00Z"),
            utc("2025-01-06T08:40:00Z"),
        ),
    ]
    assert frames.children["pr_files"].drop("repo", "number").rows() == [
        ("a.py", 10, 3, "MODIFIED"),
        ("b.py", 2, 0, "ADDED"),
    ]
    assert frames.children.keys() == {"pr_reviews", "pr_commits", "pr_files"}  # CI not fetched
    assert counts == {"prs": 1, "pr_reviews": 2, "pr_commits": 2, "pr_files": 2, "check_runs": 0}


def test_check_runs_of_the_head_commit() -> None:
    commits = {"C_head7": commit_checks(7), "C_head9": commit_checks(9)}
    frames, counts = page_frames(REPO, [pr_node(7), pr_node(8)], commits)  # type: ignore[list-item, arg-type]
    assert frames.children["check_runs"].select(
        "number", "head_sha", "check_run_id", "app_slug"
    ).rows() == [
        (7, "oid7", 501, "github-actions"),
        (7, "oid7", 502, "github-actions"),
    ]
    assert frames.children["check_runs"]["completed_at"].to_list() == [
        utc("2025-01-06T09:07:00Z"),
        None,
    ]
    assert frames.children["commit_statuses"].drop("repo").rows() == [
        (7, "oid7", "ci/jenkins", "SUCCESS", utc("2025-01-06T09:03:00Z"))
    ]
    assert counts["check_runs"] == 2


@pytest.mark.parametrize(
    ("reviewer", "expected"),
    [
        ({"__typename": "User", "login": "carol"}, "carol"),
        ({"__typename": "Bot", "login": "renovate"}, "renovate"),
        ({"__typename": "Mannequin", "login": "old-user"}, "old-user"),
        ({"__typename": "Team", "slug": "core"}, "acme/core"),
        ({"__typename": "Team", "slug": "sec", "organization": {"login": "parent"}}, "parent/sec"),
    ],
    ids=["user", "bot", "mannequin", "team-of-repo-owner", "team-with-its-org"],
)
def test_reviewer_name(reviewer: dict[str, Any], expected: str) -> None:
    assert reviewer_name(REPO, reviewer) == expected  # type: ignore[arg-type]


def test_a_node_with_empty_and_null_lists() -> None:
    bare = pr_node(
        3,
        author=None,
        milestone=None,
        mergedAt=None,
        labels=connection(),
        assignees=None,
        closingIssuesReferences=connection(),
        reviewRequests=connection(),
        reviews=connection(),
        commits=connection(),
        files=None,
        headCommit=connection(),
    )
    frames, counts = page_frames(REPO, [bare], {})  # type: ignore[list-item]
    row = frames.pull_requests.row(0, named=True)
    assert (row["author_login"], row["author_type"], row["milestone"]) == (None, None, None)
    assert (row["labels"], row["assignees"], row["linked_issues"]) == ([], [], [])
    assert row["merged_at"] is None
    assert counts == {"prs": 1, "pr_reviews": 0, "pr_commits": 0, "pr_files": 0, "check_runs": 0}
    assert frames.children["check_runs"].is_empty()


def test_mapping_does_not_depend_on_paging() -> None:
    nodes = [pr_node(n) for n in (1, 2, 3)]
    whole, _ = page_frames(REPO, nodes)  # type: ignore[arg-type]
    first, _ = page_frames(REPO, nodes[:2])  # type: ignore[arg-type]
    second, _ = page_frames(REPO, nodes[2:])  # type: ignore[arg-type]
    assert pl.concat([first.pull_requests, second.pull_requests]).equals(whole.pull_requests)
    for table in whole.children:
        joined = pl.concat([first.children[table], second.children[table]])
        assert joined.equals(whole.children[table]), table


def test_repositories() -> None:
    nodes = [{"id": "R_1", "nameWithOwner": REPO, "isArchived": True, "pushedAt": None}]
    now = datetime(2025, 2, 1, tzinfo=UTC)
    assert map_repositories(nodes, now).rows() == [(REPO, "R_1", True, None, now)]  # type: ignore[arg-type]


def test_mapped_page_and_deferred_checks_load(tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        frames, _ = page_frames(REPO, [pr_node(7), pr_node(8)])  # type: ignore[list-item]
        heads = [PendingCheck(7, "C_head7"), PendingCheck(8, "C_head8")]
        pending = SyncState(REPO, pending_check_runs=tuple(heads))
        warehouse.upsert_page(frames, pending)
        metrics = warehouse.query("SELECT number, ci_state, ai_signals FROM pr_metrics ORDER BY 1")
        assert metrics.rows() == [(7, None, ["coauthor:Claude"]), (8, None, ["coauthor:Claude"])]

        assert warehouse.read_sync_state(REPO) == pending
        checks = check_run_frames(REPO, heads, {"C_head7": commit_checks(7)})  # type: ignore[dict-item]
        assert checks.targets.rows() == [(REPO, 7), (REPO, 8)]
        assert warehouse.replace_check_runs(checks, SyncState(REPO)) == 1  # 8 had none, has none
        ci = warehouse.query("SELECT number, ci_state FROM pr_metrics ORDER BY 1").rows()
        assert ci == [(7, "PENDING"), (8, None)]  # "test" failed, its re-run is in progress
        assert warehouse.read_sync_state(REPO) == SyncState(REPO)

        # a later fetch replaces the PR's check runs as a set
        rerun = commit_checks(7)
        rerun["checkSuites"]["nodes"][0]["checkRuns"]["nodes"] = [
            {
                "databaseId": 503,
                "name": "test",
                "status": "COMPLETED",
                "conclusion": "SUCCESS",
                "startedAt": None,
                "completedAt": None,
            }
        ]
        again = check_run_frames(REPO, heads[:1], {"C_head7": rerun})  # type: ignore[dict-item]
        assert warehouse.replace_check_runs(again) == 1
        assert warehouse.query("SELECT check_run_id FROM check_runs").rows() == [(503,)]
        assert warehouse.replace_check_runs(again) == 0  # the same answer again changes nothing
        assert warehouse.query("SELECT ci_state FROM pr_metrics WHERE number = 7").item() == (
            "SUCCESS"
        )
