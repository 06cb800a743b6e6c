"""GraphQL nodes -> warehouse rows: typed polars frames, one per table (ghsync/frames.py).

The node shapes are in ghsync/nodes.py. Mapping takes *complete* nodes: every
nested connection's `nodes` already holds all its items (nested completion happens before), so
the result does not depend on how the data was paged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import polars as pl

from ghsync.ci import PendingCheck
from ghsync.frames import (
    CHECK_TARGETS,
    CHILD_SCHEMAS,
    PULL_REQUESTS,
    REPOSITORIES,
    CheckFrames,
    ChildTable,
    PageFrames,
)
from ghsync.nodes import (
    ChangedFile,
    Commit,
    CommitChecks,
    PullRequestNode,
    RepositoryNode,
    RequestedReviewer,
    Review,
    items,
)

Row = dict[str, object]
PageCounts = dict[str, int]
"""Rows of a mapped page: prs, reviews, commits, files, check_runs (for the run's report)."""


def page_frames(
    repo: str,
    pull_requests: Sequence[PullRequestNode],
    commits: Mapping[str, CommitChecks] | None = None,
) -> tuple[PageFrames, PageCounts]:
    """The frames of one page of PRs of `repo`, and their row counts. `commits` maps commit
    node ids to CheckRuns nodes; each PR gets those of its head commit. `commits=None` means
    "not fetched": the page then leaves stored check runs and statuses alone."""
    rows: dict[ChildTable, list[Row]] = {table: [] for table in CHILD_SCHEMAS}
    for node in pull_requests:
        key: Row = {"repo": repo, "number": node["number"]}
        rows["pr_reviews"] += [key | _review_row(r) for r in items(node["reviews"])]
        rows["pr_commits"] += [key | _commit_row(c["commit"]) for c in items(node["commits"])]
        rows["pr_files"] += [key | _file_row(f) for f in items(node["files"])]
        head = head_commit_id(node)
        if commits is not None and head is not None and head in commits:
            _add_check_rows(rows, key, commits[head])
    frames = {table: pl.DataFrame(rows[table], schema=CHILD_SCHEMAS[table]) for table in rows}
    fetched = commits is not None
    page = PageFrames(
        pull_requests=pl.DataFrame(
            [_pull_request_row(repo, node) for node in pull_requests], schema=PULL_REQUESTS
        ),
        pr_reviews=frames["pr_reviews"],
        pr_commits=frames["pr_commits"],
        pr_files=frames["pr_files"],
        check_runs=frames["check_runs"] if fetched else None,
        commit_statuses=frames["commit_statuses"] if fetched else None,
    )
    counts: PageCounts = {
        "prs": page.pull_requests.height,
        "reviews": page.pr_reviews.height,
        "commits": page.pr_commits.height,
        "files": page.pr_files.height,
        "check_runs": frames["check_runs"].height if fetched else 0,
    }
    return page, counts


def check_run_frames(
    repo: str, heads: Sequence[PendingCheck], commits: Mapping[str, CommitChecks]
) -> CheckFrames:
    """Frames of check runs fetched apart from their page: each of `heads` (a PR and its head
    commit's node id) gets the rows of its CheckRuns node in `commits`. A head missing from
    `commits` (gone since) leaves its PR with no check runs."""
    rows: dict[ChildTable, list[Row]] = {"check_runs": [], "commit_statuses": []}
    for head in heads:
        if head.commit_id in commits:
            key: Row = {"repo": repo, "number": head.number}
            _add_check_rows(rows, key, commits[head.commit_id])
    targets = [{"repo": repo, "number": head.number} for head in heads]
    return CheckFrames(
        targets=pl.DataFrame(targets, schema=CHECK_TARGETS),
        check_runs=pl.DataFrame(rows["check_runs"], schema=CHILD_SCHEMAS["check_runs"]),
        commit_statuses=pl.DataFrame(
            rows["commit_statuses"], schema=CHILD_SCHEMAS["commit_statuses"]
        ),
    )


def map_repositories(nodes: Sequence[RepositoryNode], synced_at: datetime) -> pl.DataFrame:
    """Rows of `repositories` from metadata-check nodes."""
    rows = [
        {
            "repo": node["nameWithOwner"],
            "repo_id": node["id"],
            "is_archived": node["isArchived"],
            "pushed_at": _timestamp(node["pushedAt"]),
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
        "database_id": _integer(node["fullDatabaseId"]),
        "title": node["title"],
        "body": node["body"],
        "state": node["state"],
        "is_draft": node["isDraft"],
        "author_login": author["login"] if author else None,
        "author_type": author["__typename"] if author else None,
        "created_at": _timestamp(node["createdAt"]),
        "updated_at": _timestamp(node["updatedAt"]),
        "closed_at": _timestamp(node["closedAt"]),
        "merged_at": _timestamp(node["mergedAt"]),
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


def _review_row(review: Review) -> Row:
    author = review["author"]
    return {
        "review_id": _integer(review["fullDatabaseId"]),
        "state": review["state"],
        "author_login": author["login"] if author else None,
        "submitted_at": _timestamp(review["submittedAt"]),
    }


def _commit_row(commit: Commit) -> Row:
    author = commit["author"]
    user = author["user"] if author else None
    return {
        "sha": commit["oid"],
        "author_login": user["login"] if user else None,
        "author_email": author["email"] if author else None,
        "author_name": author["name"] if author else None,
        "authored_at": _timestamp(commit["authoredDate"]),
        "committed_at": _timestamp(commit["committedDate"]),
        "message": commit["message"],
    }


def _file_row(changed: ChangedFile) -> Row:
    return {
        "path": changed["path"],
        "additions": changed["additions"],
        "deletions": changed["deletions"],
        "change_type": changed["changeType"],
    }


def head_commit_id(node: PullRequestNode) -> str | None:
    """The node id of the PR's head commit (input of the check-run fetch)."""
    heads = items(node["headCommit"])
    return heads[0]["commit"]["id"] if heads else None


def _add_check_rows(rows: dict[ChildTable, list[Row]], key: Row, commit: CommitChecks) -> None:
    rows["check_runs"] += [key | row for row in _check_run_rows(commit)]
    rows["commit_statuses"] += [key | row for row in _status_rows(commit)]


def _check_run_rows(commit: CommitChecks) -> list[Row]:
    return [
        {
            "head_sha": commit["oid"],
            "check_run_id": run["databaseId"],
            "app": suite["app"]["name"] if suite["app"] else None,
            "app_slug": suite["app"]["slug"] if suite["app"] else None,
            "name": run["name"],
            "status": run["status"],
            "conclusion": run["conclusion"],
            "started_at": _timestamp(run["startedAt"]),
            "completed_at": _timestamp(run["completedAt"]),
        }
        for suite in items(commit["checkSuites"])
        for run in items(suite["checkRuns"])
    ]


def _status_rows(commit: CommitChecks) -> list[Row]:
    contexts = commit["status"]["contexts"] if commit["status"] else []
    return [
        {
            "head_sha": commit["oid"],
            "context": context["context"],
            "state": context["state"],
            "created_at": _timestamp(context["createdAt"]),
        }
        for context in contexts
    ]


def _timestamp(value: str | None) -> datetime | None:
    """GitHub's ISO 8601 `DateTime` ("2025-01-06T09:00:00Z") as an aware UTC datetime."""
    return datetime.fromisoformat(value) if value else None


def _integer(value: str | int | None) -> int | None:
    """A `BigInt` (GitHub sends it as a string) as an int."""
    return int(value) if value is not None else None
