"""What the sync asks GitHub, in batches: repo metadata, org listings, PR pages, nested
overflow and check runs. Every list comes back complete; nothing here knows Prefect or DuckDB.

The sizes follow ghsync/github/plan.py: pages of 21 PRs (1 point), and every other request a
batch of up to 149 `node(id:)` items of one connection each (1 point), items of different
operations mixed in one request (`build_mixed`): a page's nested follow-ups carry check-run
items of the repository's queue (`CheckRunBatches`) so that no request goes out half empty.

Every answer becomes the typed node shapes of ghsync/nodes.py here (`shaped`), which
records.py and tables.py map to rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from ghsync.errors import ConfigError, SourceChanged
from ghsync.github import plan
from ghsync.github.client import GitHubClient, reading
from ghsync.nodes import (
    CheckRun,
    CheckSuite,
    CommitChecks,
    Connection,
    Due,
    Nested,
    OrgRepositoriesData,
    PullRequestHeadNode,
    PullRequestNode,
    PullRequestPageData,
    RepositoryMetadata,
    RepositoryNode,
    head_commit_id,
    items,
    shaped,
)
from ghsync.tables import NESTED

METADATA_BATCH = plan.BATCH_SIZE
"""Repositories per metadata request: 149 cost 1 point."""

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: a parent run hands its children the metadata it fetched (a flow run's
        parameters), so they ask GitHub nothing again."""
        return {
            "repo": self.repo,
            "node": dict(self.node),
            "pr_count": self.pr_count,
            "newest_update": self.newest_update,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RepoMeta:
        """The RepoMeta of `to_dict`."""
        node = _repository(data["node"])
        return cls(data["repo"], node, data["pr_count"], data["newest_update"])


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
    return RepoMeta(
        node["nameWithOwner"],
        _repository(node),
        prs.get("totalCount", 0),
        newest[0]["updatedAt"] if newest else None,
    )


def _repository(node: Mapping[str, Any]) -> RepositoryNode:
    """What `repositories` stores of a repository's metadata."""
    return RepositoryNode(
        id=node["id"],
        nameWithOwner=node["nameWithOwner"],
        isArchived=node["isArchived"],
        pushedAt=node["pushedAt"],
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
    client: GitHubClient,
    repo: str,
    cursor: str | None,
    page_size: int,
    raised: Sequence[str] = (),
) -> PrPage:
    """One page of the repository's PRs ordered UPDATED_AT DESC, from `cursor`; the nested
    connections `raised` (their completion flags: `files`, `reviews`...) asked 100 long."""
    owner, name = repo.split("/", 1)
    sizes = {f"{flag}First": plan.MAX_PAGE for flag in raised}
    variables = {"owner": owner, "name": name, "cursor": cursor, **sizes}
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


def next_sizes(raised: Sequence[str], page: PrPage, asked: int) -> tuple[str, ...]:
    """The nested connections the page after `page` asks 100 long (`first` does not change
    the cost): those raised before and those that overflowed on `page`, so their follow-ups
    stop. None after a page that had to shrink below the `asked` size (a timeout or a
    partial answer): a repository whose pages are heavy goes back to the small sizes."""
    if page.page_size < asked:
        return ()
    overflowed = {
        each.flag
        for each in NESTED
        if each.shape is PullRequestNode and each.flag is not None
        for pr in page.nodes
        for due in each.due(pr)
    }
    return tuple(sorted({*raised, *overflowed}))


def incomplete(prs: Sequence[PullRequestNode]) -> bool:
    """Whether `complete_nested` has anything to ask for these PRs (most pages: no)."""
    return any(each.due(pr) for pr in prs for each in NESTED) or any(
        head_commit_id(pr) is None for pr in prs
    )


async def complete_nested(
    client: GitHubClient,
    prs: Sequence[PullRequestNode],
    checks: CheckRunBatches | None = None,
) -> int:
    """Fetch every remaining page of every nested connection of the PRs (tables.NESTED), in
    place; returns the requests.

    Each round asks the next page of every incomplete (owner, connection) pair, 149 pairs per
    request (1 point), until none is left; a request with room carries items of `checks`
    too (the points are the same). Then a PR whose complete `commits` lacks its head commit
    (more than GitHub lists) gets it from PullRequestHead.
    """
    requests = await _complete(client, prs, NESTED, checks)
    headless = [pr for pr in prs if head_commit_id(pr) is None]
    for size in plan.batches(len(headless)):
        chunk, headless = headless[:size], headless[size:]
        answers = await client.execute_batch("PullRequestHead", [{"id": pr["id"]} for pr in chunk])
        requests += 1
        for pr, answer in zip(chunk, answers, strict=True):
            pr["headCommit"] = shaped(answer, PullRequestHeadNode)["headCommit"] if answer else None
    return requests


@dataclass(frozen=True)
class _Item:
    """One alias of a batched request: its operation, variables, and what to do with the
    answer (None: GitHub has no such node)."""

    operation: str
    variables: Mapping[str, object]
    apply: Callable[[dict[str, Any] | None], None]


def _due_item(due: Due[Any, Any]) -> _Item:
    def apply(answer: dict[str, Any] | None) -> None:
        if answer is None or not due.add(answer):
            raise SourceChanged(due.owner_id, due.nested.field)

    return _Item(due.nested.operation, due.variables(), apply)


async def _send(client: GitHubClient, work: Sequence[_Item]) -> None:
    """`work` in one request (mixed operations); each item's answer applied."""
    answers = await client.execute_mixed([(item.operation, item.variables) for item in work])
    for item, answer in zip(work, answers, strict=True):
        item.apply(answer)


@dataclass
class CheckRunBatches:
    """Head commits whose CI (check suites, every run, statuses) to fetch, asked in full
    requests across pages: a request carries 149 items, the suites of commits not asked yet
    and the runs (and further pages) of the suites found, so CI costs R = 1 + suites a commit
    at 149 a point whatever the page size (plan.check_runs_requests). What a request leaves
    to ask waits for the next one; when all that is left fits in one request with each
    commit's suites and runs in one item (CheckRunsOnePass, as many suites as a commit had so
    far, at least 4), it goes so: one request instead of two."""

    _waiting: dict[str, None] = field(default_factory=dict)
    """Commit ids whose suites are not asked yet, in order."""
    _open: dict[str, CommitChecks | None] = field(default_factory=dict)
    """Commits asked (None: GitHub has no such commit), some of their runs maybe not yet."""
    _suites: int = plan.ONE_PASS_SUITES
    """The check suites a one-pass item asks: the most a commit had so far."""

    def add(self, commit_ids: Iterable[str]) -> None:
        """Commits to fetch (those already here are not asked twice)."""
        for commit_id in commit_ids:
            if commit_id not in self._open:
                self._waiting.setdefault(commit_id)

    def fills_a_request(self) -> bool:
        """Whether what is left to ask fills a request (149 items)."""
        dues = sum(len(self._dues(c)) for c in self._open.values() if c)
        return dues + len(self._waiting) >= plan.BATCH_SIZE

    async def fetch(
        self, client: GitHubClient, *, everything: bool
    ) -> dict[str, CommitChecks | None]:
        """Send full requests while the backlog fills one (`everything`: until nothing is
        left); returns the commits now complete, by id (None: GitHub no longer has it), and
        forgets them."""
        while work := self._next_request(everything):
            await _send(client, work)
        done = {
            commit_id: commit
            for commit_id, commit in self._open.items()
            if commit is None or not self._dues(commit)
        }
        for commit_id in done:
            del self._open[commit_id]
        return done

    def take(self, count: int) -> list[_Item]:
        """The next `count` items at most: further pages of the commits asked, then commits."""
        return self._items()[: max(0, count)]

    def _next_request(self, everything: bool) -> list[_Item]:
        """The items of the next request: all that is left, in one-pass items asking the most
        suites a commit had so far, when they fit in 1 point (`everything`); else 149 items,
        or none when they do not fill a request. (Not more suites than seen: a query's
        worst-case node count is what GitHub's limits weigh.)"""
        dues = self._due_items()
        one_pass = len(self._waiting) * plan.check_runs_requests(self._suites)
        if everything and self._waiting and len(dues) + one_pass <= plan.ONE_POINT:
            return dues + [self._commit_item(c, self._suites) for c in self._waiting]
        work = self.take(plan.BATCH_SIZE)
        return work if everything or len(work) == plan.BATCH_SIZE else []

    def _items(self) -> list[_Item]:
        return self._due_items() + [self._commit_item(c) for c in self._waiting]

    def _due_items(self) -> list[_Item]:
        return [_due_item(due) for c in self._open.values() if c for due in self._dues(c)]

    @staticmethod
    def _dues(commit: CommitChecks) -> list[Due[Any, Any]]:
        return [due for each in _CHECKS_NESTED for due in each.due(commit)]

    def _commit_item(self, commit_id: str, suites: int | None = None) -> _Item:
        """CheckRuns of the commit, or CheckRunsOnePass with `suites` suites."""

        def apply(answer: dict[str, Any] | None) -> None:
            del self._waiting[commit_id]
            commit = shaped(answer, CommitChecks) if answer else None
            self._open[commit_id] = commit
            if commit is not None and commit["checkSuites"] is not None:
                self._suites = max(self._suites, commit["checkSuites"].get("totalCount", 0))

        if suites is None:
            return _Item("CheckRuns", {"id": commit_id}, apply)
        return _Item("CheckRunsOnePass", {"id": commit_id, "suites": suites}, apply)


def _the_commit(commit: CommitChecks) -> list[CommitChecks]:
    return [commit]


def _suites(commit: CommitChecks) -> list[CheckSuite]:
    return items(commit["checkSuites"])


def _store_runs(suite: CheckSuite, runs: Connection[CheckRun]) -> None:
    suite["checkRuns"] = runs


_CHECKS_NESTED: tuple[Nested[CommitChecks, Any, Any], ...] = (
    Nested(
        CommitChecks,
        "checkSuites",
        _the_commit,
        lambda commit: commit["checkSuites"],
        operation="CommitCheckSuites",
    ),
    Nested(
        CheckSuite,
        "checkRuns",
        _suites,
        lambda suite: suite.get("checkRuns"),
        first_page=_store_runs,
        operation="CheckSuiteRuns",
    ),
)
"""CommitCheckSuites follows a commit's suites beyond 100; CheckSuiteRuns asks every page of
each suite's runs."""


async def _complete(
    client: GitHubClient,
    roots: Sequence[Mapping[str, object]],
    nested: Sequence[Nested[Any, Any, Any]],
    filler: CheckRunBatches | None = None,
) -> int:
    """Ask the next page of each incomplete nested connection of the roots (each through its
    completion query, mixed in one request), 149 a request, in rounds until none is left, each
    request filled up to 149 with `filler`'s items; returns the requests."""
    requests = 0
    while pending := [due for root in roots for each in nested for due in each.due(root)]:
        start = 0
        for size in plan.batches(len(pending)):
            work = [_due_item(due) for due in pending[start : start + size]]
            start += size
            if filler is not None:
                work += filler.take(plan.BATCH_SIZE - len(work))
            await _send(client, work)
            requests += 1
    return requests
