"""What the sync asks GitHub, in batches: repo metadata, org listings, PR pages, nested
overflow and check runs. Every list comes back complete; nothing here knows Prefect or DuckDB.

GraphQL answers stay in GitHub's JSON shape (`Node`): records.py maps them to rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from ghsync.errors import ConfigError, SourceChanged
from ghsync.github.client import GitHubClient
from ghsync.nodes import CommitChecks

Node = dict[str, Any]
"""A GraphQL object as GitHub answers it (JSON), connections as {nodes, pageInfo, totalCount}."""

BATCH = 50
"""Items per batched request: 50 metadata checks or nested follow-ups cost 1 point."""

NESTED = {
    "labels": "labels",
    "assignees": "assignees",
    "closingIssuesReferences": "closingIssues",
    "reviewRequests": "reviewRequests",
    "reviews": "reviews",
    "commits": "commits",
    "files": "files",
}
"""PR connection -> the PullRequestNested flag that asks for its next page."""

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
    repo_id: str
    is_archived: bool
    pushed_at: str | None
    pr_count: int
    newest_update: str | None
    """updatedAt of the most recently updated PR (None: no PRs)."""


async def check_repos(client: GitHubClient, repos: Sequence[str]) -> dict[str, RepoMeta | None]:
    """Metadata of each repository, 50 per request (1 point); None when GitHub answers
    NOT_FOUND or FORBIDDEN for it."""
    result: dict[str, RepoMeta | None] = {}
    for start in range(0, len(repos), BATCH):
        chunk = repos[start : start + BATCH]
        items = [dict(zip(("owner", "name"), repo.split("/", 1), strict=True)) for repo in chunk]
        answers = await client.execute_batch("RepoMetadata", items)
        for repo, answer in zip(chunk, answers, strict=True):
            result[repo] = None if answer is None else _meta(answer)
    return result


def _meta(node: Node) -> RepoMeta:
    prs = node["pullRequests"]
    newest = prs["nodes"][0]["updatedAt"] if prs["nodes"] else None
    return RepoMeta(
        node["nameWithOwner"],
        node["id"],
        node["isArchived"],
        node["pushedAt"],
        prs["totalCount"],
        newest,
    )


async def list_org_repos(client: GitHubClient, org: str) -> list[str]:
    """The organization's non-archived repositories, every page."""
    names: list[str] = []
    cursor = None
    while True:
        data = await client.execute("OrgRepositories", {"org": org, "cursor": cursor})
        page = data["organization"]["repositories"]
        names += [repo["nameWithOwner"] for repo in page["nodes"] if not repo["isArchived"]]
        if not page["pageInfo"]["hasNextPage"]:
            return names
        cursor = page["pageInfo"]["endCursor"]


@dataclass(frozen=True)
class PrPage:
    """One page of PRs, newest update first, as fetched (nested lists maybe incomplete)."""

    nodes: list[Node]
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
    data, used = await client.execute_page("PullRequestPage", variables, page_size)
    connection = data["repository"]["pullRequests"]
    info = connection["pageInfo"]
    return PrPage(
        connection["nodes"], info["endCursor"], info["hasNextPage"], connection["totalCount"], used
    )


def overflowing(pr: Node) -> list[str]:
    """The PR's nested connections with more pages to fetch."""
    return [
        field for field in NESTED if (pr.get(field) or {}).get("pageInfo", {}).get("hasNextPage")
    ]


async def complete_nested(client: GitHubClient, prs: Sequence[Node]) -> int:
    """Fetch every remaining page of every nested connection, in place; returns the requests.

    Each round asks the next page of every overflowing (PR, connection) pair, 50 pairs per
    request, until none overflows.
    """
    pending = [(pr, field) for pr in prs for field in overflowing(pr)]
    requests = 0
    while pending:
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            items = [
                {"id": pr["id"], "after": pr[field]["pageInfo"]["endCursor"], NESTED[field]: True}
                for pr, field in chunk
            ]
            answers = await client.execute_batch("PullRequestNested", items)
            requests += 1
            for (pr, field), answer in zip(chunk, answers, strict=True):
                if answer is None:
                    raise SourceChanged(pr["id"], field)
                pr[field]["nodes"] += answer[field]["nodes"]
                pr[field]["pageInfo"] = answer[field]["pageInfo"]
        pending = [(pr, field) for pr, field in pending if pr[field]["pageInfo"]["hasNextPage"]]
    return requests


def head_commit_id(pr: Node) -> str | None:
    """The node id of the PR's head commit (input of the check-run fetch)."""
    nodes = (pr.get("headCommit") or {}).get("nodes") or []
    return nodes[0]["commit"]["id"] if nodes else None


async def fetch_check_runs(
    client: GitHubClient, commit_ids: Sequence[str]
) -> dict[str, CommitChecks]:
    """Complete check suites (every run, re-runs included) and statuses of each commit.

    Returns commit id -> Commit node with `checkSuites.nodes[].checkRuns.nodes` complete; a
    commit GitHub no longer has is left out.
    """
    commits: dict[str, Node] = {}
    for start in range(0, len(commit_ids), BATCH):
        data = await client.execute("CheckRuns", {"ids": list(commit_ids[start : start + BATCH])})
        for commit in data["nodes"]:
            if commit:
                commits[commit["id"]] = commit
    await _complete_checks(client, list(commits.values()))
    return cast(dict[str, CommitChecks], commits)  # complete now: the shape records.py maps


async def _complete_checks(client: GitHubClient, commits: list[Node]) -> None:
    """Follow check suites beyond the first page (per commit) and runs beyond 100 (per suite)."""
    while True:
        pending: list[tuple[Node, str]] = []  # (connection owner, its connection field)
        for commit in commits:
            if commit["checkSuites"]["pageInfo"]["hasNextPage"]:
                pending.append((commit, "checkSuites"))
            pending += [
                (suite, "checkRuns")
                for suite in commit["checkSuites"]["nodes"]
                if suite["checkRuns"]["pageInfo"]["hasNextPage"]
            ]
        if not pending:
            return
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            items = [
                {"id": owner["id"], "after": owner[field]["pageInfo"]["endCursor"]}
                for owner, field in chunk
            ]
            answers = await client.execute_batch("CheckRunsNested", items)
            for (owner, field), answer in zip(chunk, answers, strict=True):
                if answer is None:
                    raise SourceChanged(owner["id"], field)
                owner[field]["nodes"] += answer[field]["nodes"]
                owner[field]["pageInfo"] = answer[field]["pageInfo"]
