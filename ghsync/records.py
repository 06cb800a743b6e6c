"""GraphQL nodes -> warehouse rows: typed polars frames, one per table (ghsync/frames.py).

The node shapes are in ghsync/nodes.py, the child tables' row mappings in ghsync/tables.py.
Mapping takes *complete* nodes: every nested connection's `nodes` already holds all its items
(nested completion happens before), so the result does not depend on how the data was paged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import polars as pl

from ghsync.ci import PendingCheck
from ghsync.frames import CHECK_TARGETS, PULL_REQUESTS, REPOSITORIES, CheckFrames, PageFrames
from ghsync.nodes import (
    CommitChecks,
    PullRequestNode,
    RepositoryNode,
    RequestedReviewer,
    big_int,
    head_commit_id,
    items,
)
from ghsync.tables import CHECK_TABLES, CHILD_SCHEMAS, COUNTED, PR_TABLES, ChildTable, Row
from ghsync.timestamps import parse_time

PageCounts = dict[str, int]
"""Rows of a mapped page: `prs`, and each counted child table's (tables.COUNTED), by name."""


def page_frames(
    repo: str,
    pull_requests: Sequence[PullRequestNode],
    commits: Mapping[str, CommitChecks] | None = None,
) -> tuple[PageFrames, PageCounts]:
    """The frames of one page of PRs of `repo`, and their row counts. `commits` maps commit
    node ids to CheckRuns nodes; each PR gets those of its head commit. `commits=None` means
    "not fetched": the page then leaves stored check runs and statuses alone."""
    tables: tuple[ChildTable, ...] = PR_TABLES if commits is None else (*PR_TABLES, *CHECK_TABLES)
    rows: dict[str, list[Row]] = {table.name: [] for table in tables}
    for node in pull_requests:
        key: Row = {"repo": repo, "number": node["number"]}
        for pr_table in PR_TABLES:
            rows[pr_table.name] += [key | row for row in pr_table.rows(node)]
        head = head_commit_id(node)
        if commits is not None and head is not None and head in commits:
            _add_check_rows(rows, key, commits[head])
    page = PageFrames(
        pl.DataFrame(
            [_pull_request_row(repo, node) for node in pull_requests], schema=PULL_REQUESTS
        ),
        {table: pl.DataFrame(rows[table], schema=CHILD_SCHEMAS[table]) for table in rows},
    )
    counts: PageCounts = {"prs": page.pull_requests.height}
    for table, _ in COUNTED:
        frame = page.children.get(table)
        counts[table] = 0 if frame is None else frame.height
    return page, counts


def check_run_frames(
    repo: str, heads: Sequence[PendingCheck], commits: Mapping[str, CommitChecks]
) -> CheckFrames:
    """Frames of check runs fetched apart from their page: each of `heads` (a PR and its head
    commit's node id) gets the rows of its CheckRuns node in `commits`. A head missing from
    `commits` (gone since) leaves its PR with no check runs."""
    rows: dict[str, list[Row]] = {table.name: [] for table in CHECK_TABLES}
    for head in heads:
        if head.commit_id in commits:
            key: Row = {"repo": repo, "number": head.number}
            _add_check_rows(rows, key, commits[head.commit_id])
    targets = [{"repo": repo, "number": head.number} for head in heads]
    return CheckFrames(
        targets=pl.DataFrame(targets, schema=CHECK_TARGETS),
        children={table: pl.DataFrame(rows[table], schema=CHILD_SCHEMAS[table]) for table in rows},
    )


def map_repositories(nodes: Sequence[RepositoryNode], synced_at: datetime) -> pl.DataFrame:
    """Rows of `repositories` from metadata-check nodes."""
    rows = [
        {
            "repo": node["nameWithOwner"],
            "repo_id": node["id"],
            "is_archived": node["isArchived"],
            "pushed_at": parse_time(node["pushedAt"]),
            "synced_at": synced_at,
        }
        for node in nodes
    ]
    return pl.DataFrame(rows, schema=REPOSITORIES)


def reviewer_name(repo: str, reviewer: RequestedReviewer) -> str | None:
    """A requested reviewer as stored: a login, or `org/team-slug` for a Team. A team's org is
    the repository owner unless the node names it (only an org's teams can review its repos)."""
    if reviewer["__typename"] == "Team":
        organization = reviewer.get("organization")
        org = organization["login"] if organization else repo.split("/", 1)[0]
        return f"{org}/{reviewer['slug']}"
    return reviewer.get("login")


def _pull_request_row(repo: str, node: PullRequestNode) -> Row:
    author = node["author"]
    requests = [r["requestedReviewer"] for r in items(node["reviewRequests"])]
    reviewers = [reviewer_name(repo, r) for r in requests if r is not None]
    return {
        "repo": repo,
        "number": node["number"],
        "pr_id": node["id"],
        "database_id": big_int(node["fullDatabaseId"]),
        "title": node["title"],
        "body": node["body"],
        "state": node["state"],
        "is_draft": node["isDraft"],
        "author_login": author["login"] if author else None,
        "author_type": author["__typename"] if author else None,
        "created_at": parse_time(node["createdAt"]),
        "updated_at": parse_time(node["updatedAt"]),
        "closed_at": parse_time(node["closedAt"]),
        "merged_at": parse_time(node["mergedAt"]),
        "additions": node["additions"],
        "deletions": node["deletions"],
        "changed_files": node["changedFiles"],
        "base_ref": node["baseRefName"],
        "head_ref": node["headRefName"],
        "head_sha": node["headRefOid"],
        "milestone": node["milestone"]["title"] if node["milestone"] else None,
        "labels": [label["name"] for label in items(node["labels"])],
        "assignees": [user["login"] for user in items(node["assignees"])],
        "linked_issues": [issue["number"] for issue in items(node["closingIssuesReferences"])],
        "requested_reviewers": [name for name in reviewers if name is not None],
        "head_commit_id": head_commit_id(node),
    }


def _add_check_rows(rows: dict[str, list[Row]], key: Row, commit: CommitChecks) -> None:
    for table in CHECK_TABLES:
        rows[table.name] += [key | row for row in table.rows(commit)]
