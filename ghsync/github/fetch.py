"""What the sync asks GitHub, in batches: repo metadata, org listings, PR pages, nested
overflow and check runs. Every list comes back complete; nothing here knows Prefect or DuckDB.

Every answer becomes the typed node shapes of ghsync/nodes.py here (`shaped`), which
records.py and tables.py map to rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from ghsync.errors import ConfigError, SourceChanged
from ghsync.github import plan
from ghsync.github.client import GitHubClient, reading
from ghsync.nodes import (
    CheckSuite,
    CommitChecks,
    Due,
    Nested,
    OrgRepositoriesData,
    PullRequestNode,
    PullRequestPageData,
    RepositoryMetadata,
    RepositoryNode,
    items,
    shaped,
)
from ghsync.tables import NESTED

METADATA_BATCH = plan.batch_size(plan.METADATA_PER_ITEM)
"""Repositories per metadata request: 149 cost 1 point."""
_COMPLETION_COST = {
    "PullRequestNested": plan.NESTED_PER_ITEM,
    "CheckRunsNested": plan.CHECK_RUNS_NESTED_PER_ITEM,
}
"""R of one follow-up: 149 nested lists, or 24 commits or check suites, cost 1 point."""

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


def validate_repo_names(names: Sequence[str]) -> list[str]:
    """`owner/name` for each name, or one ConfigError listing every bad one."""
    bad = [name for name in names if not _NAME.match(name) or name.endswith(("/.", "/.."))]
    if bad:
        raise ConfigError(
            f"not a repository name (expected owner/name): {', '.join(repr(b) for b in bad)}"
        )
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class RepoMeta:
    """The metadata check's answer for one repository."""

    repo: str
    node: RepositoryNode
    """What `repositories` stores of it."""
    pr_count: int
    newest_update: str | None
    """updatedAt of the most recently updated PR (None: no PRs)."""


async def check_repos(client: GitHubClient, repos: Sequence[str]) -> dict[str, RepoMeta | None]:
    """Metadata of each repository, 149 per request (1 point); None when GitHub answers
    NOT_FOUND or FORBIDDEN for it. With app installations in the pool (each reads only its
    account's repositories), a batch holds one owner's repositories and goes to a credential
    that reads them."""
    result: dict[str, RepoMeta | None] = {}
    for owner, group in _by_owner(repos, client.pool.scoped()):
        for start in range(0, len(group), METADATA_BATCH):
            chunk = group[start : start + METADATA_BATCH]
            items = [dict(zip(("owner", "name"), r.split("/", 1), strict=True)) for r in chunk]
            with reading(owner) if owner else nullcontext():
                answers = await client.execute_batch("RepoMetadata", items)
            for repo, answer in zip(chunk, answers, strict=True):
                meta = None if answer is None else _meta(shaped(answer, RepositoryMetadata))
                result[repo] = meta
    return {repo: result[repo] for repo in repos}


def _by_owner(repos: Sequence[str], scoped: bool) -> list[tuple[str | None, list[str]]]:
    """`repos` in batches' groups: by owner when `scoped`, else one group."""
    if not scoped:
        return [(None, list(repos))]
    groups: dict[str, list[str]] = {}
    for repo in repos:
        groups.setdefault(repo.split("/", 1)[0].lower(), []).append(repo)
    return list(groups.items())


def _meta(node: RepositoryMetadata) -> RepoMeta:
    prs = node["pullRequests"]
    newest = items(prs)
    repository = RepositoryNode(
        id=node["id"],
        nameWithOwner=node["nameWithOwner"],
        isArchived=node["isArchived"],
        pushedAt=node["pushedAt"],
    )
    return RepoMeta(
        node["nameWithOwner"],
        repository,
        prs.get("totalCount", 0),
        newest[0]["updatedAt"] if newest else None,
    )


async def list_org_repos(client: GitHubClient, org: str) -> list[str]:
    """The organization's non-archived repositories, every page."""
    names: list[str] = []
    cursor = None
    while True:
        with reading(org):
            answer = await client.execute("OrgRepositories", {"org": org, "cursor": cursor})
        page = shaped(answer, OrgRepositoriesData)["organization"]["repositories"]
        names += [repo["nameWithOwner"] for repo in items(page) if not repo["isArchived"]]
        info = page.get("pageInfo")
        if info is None or not info["hasNextPage"]:
            return names
        cursor = info["endCursor"]


@dataclass(frozen=True)
class PrPage:
    """One page of PRs, newest update first, as fetched (nested lists maybe incomplete)."""

    nodes: list[PullRequestNode]
    end_cursor: str | None
    has_next: bool
    total_count: int
    page_size: int
    """The page size that worked (smaller than asked after a timeout)."""


async def fetch_pr_page(
    client: GitHubClient, repo: str, cursor: str | None, page_size: int
) -> PrPage:
    """One page of the repository's PRs ordered UPDATED_AT DESC, from `cursor`."""
    owner, name = repo.split("/", 1)
    variables = {"owner": owner, "name": name, "cursor": cursor}
    answer, used = await client.execute_page("PullRequestPage", variables, page_size)
    connection = shaped(answer, PullRequestPageData)["repository"]["pullRequests"]
    info = connection.get("pageInfo")
    return PrPage(
        items(connection),
        info["endCursor"] if info else None,
        bool(info and info["hasNextPage"]),
        connection.get("totalCount", 0),
        used,
    )


async def complete_nested(client: GitHubClient, prs: Sequence[PullRequestNode]) -> int:
    """Fetch every remaining page of every nested connection of the PRs (tables.NESTED), in
    place; returns the requests.

    Each round asks the next page of every incomplete (owner, connection) pair, 149 pairs per
    request (1 point), until none is left.
    """
    return await _complete(client, "PullRequestNested", prs, NESTED)


async def fetch_check_runs(
    client: GitHubClient, commit_ids: Sequence[str]
) -> dict[str, CommitChecks]:
    """Complete check suites (every run, re-runs included) and statuses of each commit.

    The commits go in the fewest 1-point requests (plan.batches): 50 in 2 of 25.
    Returns commit id -> Commit node with `checkSuites.nodes[].checkRuns.nodes` complete; a
    commit GitHub no longer has is left out.
    """
    commits: dict[str, CommitChecks] = {}
    start = 0
    for size in plan.batches(len(commit_ids), plan.CHECK_RUNS_PER_COMMIT):
        ids = list(commit_ids[start : start + size])
        start += size
        answers = await client.execute_batch("CheckRuns", [{"id": i} for i in ids])
        for answer in answers:
            if answer:
                commit = shaped(answer, CommitChecks)
                commits[commit["id"]] = commit
    await _complete(client, "CheckRunsNested", list(commits.values()), _CHECKS_NESTED)
    return commits


def _the_commit(commit: CommitChecks) -> list[CommitChecks]:
    return [commit]


def _suites(commit: CommitChecks) -> list[CheckSuite]:
    return items(commit["checkSuites"])


_CHECKS_NESTED: tuple[Nested[CommitChecks, Any, Any], ...] = (
    Nested(CommitChecks, "checkSuites", _the_commit, lambda commit: commit["checkSuites"]),
    Nested(CheckSuite, "checkRuns", _suites, lambda suite: suite["checkRuns"]),
)
"""CheckRunsNested follows check suites beyond the first page (per commit) and runs beyond
100 (per suite)."""


async def _complete(
    client: GitHubClient,
    operation: str,
    roots: Sequence[Mapping[str, object]],
    nested: Sequence[Nested[Any, Any, Any]],
) -> int:
    """Ask `operation` (a batch of `node(id:)`) for the next page of each incomplete nested
    connection of the roots, in rounds until none is left; returns the requests."""
    requests = 0
    while pending := [due for root in roots for each in nested for due in each.due(root)]:
        start = 0
        for size in plan.batches(len(pending), _COMPLETION_COST[operation]):
            chunk: list[Due[Any, Any]] = pending[start : start + size]
            start += size
            answers = await client.execute_batch(operation, [d.variables() for d in chunk])
            requests += 1
            for due, answer in zip(chunk, answers, strict=True):
                if answer is None or not due.add(answer):
                    raise SourceChanged(due.owner_id, due.nested.field)
    return requests
