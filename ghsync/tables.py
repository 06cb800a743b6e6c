"""One declaration per child table: its rows, its columns, the nested connections they come
from, and how the run's report counts them. Everything else is derived from `CHILD_TABLES`:
the nested connections completed (github/fetch.py), the polars schemas and a page's frames
(frames.py, records.py), the loads (warehouse.py) and the counts of the run's report.

A child table's rows belong to one PR and are keyed by it (repo, number, `PR_KEY`): a load of
the PR replaces them as a set. Its columns must match warehouse/migrations (a test checks it).
To add a table: declare it here, add a migration, and add its connection to the queries
(PullRequestPage, or only PullRequestNested for one completion fetches).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl

from ghsync.nodes import (
    ChangedFile,
    CheckRun,
    CheckSuite,
    Commit,
    CommitChecks,
    Connection,
    Nested,
    PullRequestNode,
    big_int,
    items,
)
from ghsync.timestamps import parse_time

UTC = pl.Datetime("us", "UTC")
PR_KEY: Mapping[str, pl.DataType] = {"repo": pl.String(), "number": pl.Int32()}
"""The columns that key every child row to its PR."""

Row = dict[str, object]
T = TypeVar("T")


PrNested = Nested[PullRequestNode, Any, Any]
"""A nested connection of a PR page (its item types differ: `Any`, checked where declared)."""


@dataclass(frozen=True)
class ChildTable:
    """A warehouse table of rows that belong to a PR."""

    name: str
    columns: Mapping[str, pl.DataType]
    """Its columns after `PR_KEY`, in table order."""
    title: str | None
    """How the run's report names its rows ("check runs"); None: not counted."""

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema({**PR_KEY, **self.columns})


@dataclass(frozen=True)
class PrTable(ChildTable):
    """Rows mapped from the PR node, once its nested connections are complete."""

    rows: Callable[[PullRequestNode], list[Row]]
    nested: tuple[PrNested, ...]
    """The connections (of the PR, or of its nodes) the rows come from."""


@dataclass(frozen=True)
class CheckTable(ChildTable):
    """Rows mapped from the PR's head commit (the CheckRuns query); fetched with the page or
    apart from it, so a page may leave them out ("not fetched": stored rows stay)."""

    rows: Callable[[CommitChecks], list[Row]]


def _the_pr(pr: PullRequestNode) -> list[PullRequestNode]:
    return [pr]


def _pr(field: str, flag: str, read: Callable[[PullRequestNode], Connection[T] | None]) -> PrNested:
    """A connection of the PR: PullRequestPage asks its first page, PullRequestNested the rest
    when `flag` is set."""
    return Nested(PullRequestNode, field, _the_pr, read, flag)


PULL_REQUEST_LISTS: tuple[PrNested, ...] = (
    _pr("labels", "labels", lambda pr: pr["labels"]),
    _pr("assignees", "assignees", lambda pr: pr["assignees"]),
    _pr("closingIssuesReferences", "closingIssues", lambda pr: pr["closingIssuesReferences"]),
    _pr("reviewRequests", "reviewRequests", lambda pr: pr["reviewRequests"]),
)
"""The PR's connections stored as list columns of `pull_requests` (labels, assignees, ...)."""


def _review_rows(pr: PullRequestNode) -> list[Row]:
    rows: list[Row] = []
    for review in items(pr["reviews"]):
        author = review["author"]
        rows.append(
            {
                "review_id": big_int(review["fullDatabaseId"]),
                "state": review["state"],
                "author_login": author["login"] if author else None,
                "submitted_at": parse_time(review["submittedAt"]),
            }
        )
    return rows


def _commit_rows(pr: PullRequestNode) -> list[Row]:
    return [_commit_row(node["commit"]) for node in items(pr["commits"])]


def _commit_row(commit: Commit) -> Row:
    author = commit["author"]
    user = author["user"] if author else None
    return {
        "sha": commit["oid"],
        "author_login": user["login"] if user else None,
        "author_email": author["email"] if author else None,
        "author_name": author["name"] if author else None,
        "authored_at": parse_time(commit["authoredDate"]),
        "committed_at": parse_time(commit["committedDate"]),
        "message": commit["message"],
    }


def _file_rows(pr: PullRequestNode) -> list[Row]:
    return [_file_row(changed) for changed in items(pr["files"])]


def _file_row(changed: ChangedFile) -> Row:
    return {
        "path": changed["path"],
        "additions": changed["additions"],
        "deletions": changed["deletions"],
        "change_type": changed["changeType"],
    }


def _check_run_rows(commit: CommitChecks) -> list[Row]:
    return [
        _check_run_row(commit, suite, run)
        for suite in items(commit["checkSuites"])
        for run in items(suite["checkRuns"])
    ]


def _check_run_row(commit: CommitChecks, suite: CheckSuite, run: CheckRun) -> Row:
    app = suite["app"]
    return {
        "head_sha": commit["oid"],
        "check_run_id": run["databaseId"],
        "app": app["name"] if app else None,
        "app_slug": app["slug"] if app else None,
        "name": run["name"],
        "status": run["status"],
        "conclusion": run["conclusion"],
        "started_at": parse_time(run["startedAt"]),
        "completed_at": parse_time(run["completedAt"]),
    }


def _status_rows(commit: CommitChecks) -> list[Row]:
    contexts = commit["status"]["contexts"] if commit["status"] else []
    return [
        {
            "head_sha": commit["oid"],
            "context": context["context"],
            "state": context["state"],
            "created_at": parse_time(context["createdAt"]),
        }
        for context in contexts
    ]


PR_TABLES: tuple[PrTable, ...] = (
    PrTable(
        "pr_reviews",
        {
            "review_id": pl.Int64(),
            "state": pl.String(),
            "author_login": pl.String(),
            "submitted_at": UTC,
        },
        "reviews",
        _review_rows,
        (_pr("reviews", "reviews", lambda pr: pr["reviews"]),),
    ),
    PrTable(
        "pr_commits",
        {
            "sha": pl.String(),
            "author_login": pl.String(),
            "author_email": pl.String(),
            "author_name": pl.String(),
            "authored_at": UTC,
            "committed_at": UTC,
            "message": pl.String(),
        },
        "commits",
        _commit_rows,
        (_pr("commits", "commits", lambda pr: pr["commits"]),),
    ),
    PrTable(
        "pr_files",
        {
            "path": pl.String(),
            "additions": pl.Int32(),
            "deletions": pl.Int32(),
            "change_type": pl.String(),
        },
        "files",
        _file_rows,
        (_pr("files", "files", lambda pr: pr["files"]),),
    ),
)

CHECK_TABLES: tuple[CheckTable, ...] = (
    CheckTable(
        "check_runs",
        {
            "head_sha": pl.String(),
            "check_run_id": pl.Int64(),
            "app": pl.String(),
            "app_slug": pl.String(),
            "name": pl.String(),
            "status": pl.String(),
            "conclusion": pl.String(),
            "started_at": UTC,
            "completed_at": UTC,
        },
        "check runs",
        _check_run_rows,
    ),
    CheckTable(
        "commit_statuses",
        {
            "head_sha": pl.String(),
            "context": pl.String(),
            "state": pl.String(),
            "created_at": UTC,
        },
        None,
        _status_rows,
    ),
)

CHILD_TABLES: tuple[ChildTable, ...] = (*PR_TABLES, *CHECK_TABLES)

CHILD_SCHEMAS: dict[str, pl.Schema] = {table.name: table.schema for table in CHILD_TABLES}

NESTED: tuple[PrNested, ...] = (
    *PULL_REQUEST_LISTS,
    *(nested for table in PR_TABLES for nested in table.nested),
)
"""Every nested connection of a PR page that completion follows."""

COUNTED: tuple[tuple[str, str], ...] = tuple(
    (table.name, table.title) for table in CHILD_TABLES if table.title is not None
)
"""(table, title) of the rows the run's report counts, in report order."""
