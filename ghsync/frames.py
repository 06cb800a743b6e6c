"""The frames a page of PRs becomes: the schemas of `repositories` and `pull_requests` (the
child tables' are declared in tables.py), and the bundles a load takes.

records.py builds these frames from GraphQL nodes; warehouse.py loads them. The schemas match
the columns of warehouse/migrations (a test checks it); timestamps are UTC.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from ghsync.tables import CHECK_TABLES, CHILD_SCHEMAS, PR_KEY, PR_TABLES, UTC

REPOSITORIES = pl.Schema(
    {
        "repo": pl.String(),
        "repo_id": pl.String(),
        "is_archived": pl.Boolean(),
        "pushed_at": UTC,
        "synced_at": UTC,
    }
)

PULL_REQUESTS = pl.Schema(
    {
        "repo": pl.String(),
        "number": pl.Int32(),
        "pr_id": pl.String(),
        "database_id": pl.Int64(),
        "title": pl.String(),
        "body": pl.String(),
        "state": pl.String(),
        "is_draft": pl.Boolean(),
        "author_login": pl.String(),
        "author_type": pl.String(),
        "created_at": UTC,
        "updated_at": UTC,
        "closed_at": UTC,
        "merged_at": UTC,
        "additions": pl.Int32(),
        "deletions": pl.Int32(),
        "changed_files": pl.Int32(),
        "base_ref": pl.String(),
        "head_ref": pl.String(),
        "head_sha": pl.String(),
        "milestone": pl.String(),
        "labels": pl.List(pl.String()),
        "assignees": pl.List(pl.String()),
        "linked_issues": pl.List(pl.Int32()),
        "requested_reviewers": pl.List(pl.String()),
        "head_commit_id": pl.String(),
    }
)


@dataclass(frozen=True)
class PageFrames:
    """One page of PRs as frames, loaded in one transaction by `Warehouse.upsert_page`.

    `children` holds a frame per child table (tables.py), by name. Every PR in
    `pull_requests` gets its rows of each PR table (reviews, commits, ...) replaced by those
    here (none is a valid set): each must be present. The check tables (check runs, statuses)
    replace that PR's stored rows too when present; all absent means "not fetched with this
    page", which keeps what is stored.
    """

    pull_requests: pl.DataFrame
    children: Mapping[str, pl.DataFrame]

    def __post_init__(self) -> None:
        check_schema("pull_requests", self.pull_requests, PULL_REQUESTS)
        unknown = self.children.keys() - CHILD_SCHEMAS.keys()
        missing = {table.name for table in PR_TABLES} - self.children.keys()
        checks = {table.name for table in CHECK_TABLES} & self.children.keys()
        if unknown or missing or checks not in (set(), {t.name for t in CHECK_TABLES}):
            raise ValueError(
                f"page frames of {sorted(self.children)}: every PR table is needed "
                f"({sorted(t.name for t in PR_TABLES)}), and all check tables or none"
            )
        for table, frame in self.children.items():
            check_schema(table, frame, CHILD_SCHEMAS[table])
        if self.pull_requests.select("repo", "number").is_duplicated().any():
            raise ValueError("pull_requests: a PR appears twice in one page")
        _check_rows_belong(self.pull_requests, self.children)

    def rows(self) -> int:
        """How many rows the page holds, PRs and children."""
        return self.pull_requests.height + sum(f.height for f in self.children.values())


def join_pages(pages: Sequence[PageFrames]) -> list[PageFrames]:
    """`pages` in order, consecutive ones joined into one frame set while they carry the same
    child tables and share no PR, so a run of pages loads with one set of statements. Loaded
    in order, the result leaves what the pages loaded one by one would: a PR on two pages
    stays on two (joined, its rows would be doubled), and a page without check runs is never
    joined to one with them (its PRs would lose theirs)."""
    runs: list[list[PageFrames]] = []
    in_run: set[tuple[str, int]] = set()
    for page in pages:
        keys = set(_pr_keys(page.pull_requests))
        last = runs[-1][-1] if runs else None
        if last is None or last.children.keys() != page.children.keys() or keys & in_run:
            runs.append([])
            in_run = set()
        runs[-1].append(page)
        in_run |= keys
    return [_concat(run) for run in runs]


def _concat(pages: list[PageFrames]) -> PageFrames:
    if len(pages) == 1:
        return pages[0]
    tables = pages[0].children.keys()
    children = {table: pl.concat([page.children[table] for page in pages]) for table in tables}
    return PageFrames(pl.concat([page.pull_requests for page in pages]), children)


CHECK_TARGETS = pl.Schema(PR_KEY)


@dataclass(frozen=True)
class CheckFrames:
    """Check runs and statuses fetched apart from their PRs' page (deferred), loaded by
    `Warehouse.replace_check_runs`: every PR in `targets` gets its stored rows of each check
    table (tables.CHECK_TABLES, all in `children`) replaced."""

    targets: pl.DataFrame
    children: Mapping[str, pl.DataFrame]

    def __post_init__(self) -> None:
        check_schema("targets", self.targets, CHECK_TARGETS)
        if self.children.keys() != {table.name for table in CHECK_TABLES}:
            raise ValueError(f"check frames of tables {sorted(self.children)}")
        for table, frame in self.children.items():
            check_schema(table, frame, CHILD_SCHEMAS[table])
        _check_rows_belong(self.targets, self.children)


def check_schema(table: str, frame: pl.DataFrame, schema: pl.Schema) -> None:
    """Fail on a frame whose columns or types differ from its table's schema (a bug upstream)."""
    if frame.schema != schema:
        raise TypeError(f"{table}: frame schema {dict(frame.schema)} != {dict(schema)}")


def _check_rows_belong(keys: pl.DataFrame, children: Mapping[str, pl.DataFrame]) -> None:
    """Fail on a child row of a PR that is not in `keys` (a bug upstream): the warehouse inserts
    a page's rows without matching them to its PRs, so such a row would join another PR's set."""
    known = set(_pr_keys(keys))
    for table, frame in children.items():
        if not known.issuperset(_pr_keys(frame)):
            raise ValueError(f"{table}: a row of a PR that is not in the frames' PRs")


def _pr_keys(frame: pl.DataFrame) -> Iterator[tuple[str, int]]:
    """The (repo, number) of each row of `frame`."""
    return zip(frame["repo"].to_list(), frame["number"].to_list(), strict=True)


def empty_frame(schema: pl.Schema) -> pl.DataFrame:
    """A frame with no rows and the given schema."""
    return pl.DataFrame(schema=schema)
