"""Query sizes from GitHub's point formula (shared/github/FACTS.md, "Point cost").

A query costs round(R / 100) points, at least 1, where R adds up, over every connection, the
number of its possible parents (the product of the page sizes above it; under
`nodes(ids:)`, the ids). The `first` of a connection with no connection below it does not
change R: only how many connections there are, and the page or batch sizes above them.

The per-item figures below are those of the queries in `queries/`; tests/unit/test_plan.py
checks each against the emulator's cost calculation of the real document.
"""

from __future__ import annotations

from collections.abc import Callable

ONE_POINT = 149
"""The largest R that still costs 1 point (1.49 rounds to 1)."""

MAX_PAGE = 100
"""`first`/`last` are at most 100."""

PR_PAGE_CONNECTIONS = 8
"""Connections under each PR of PullRequestPage: labels, assignees, closingIssuesReferences,
reviewRequests, reviews, commits, headCommit (commits(last: 1)), files."""

NESTED_PER_ITEM = 1
"""PullRequestNested: one connection (the one asked for) under `node(id:)`."""

METADATA_PER_ITEM = 1
"""RepoMetadata: `pullRequests(first: 1)` under `repository`."""

CHECK_SUITES_FIRST = 4
"""`checkSuites(first:)` of CheckRuns and CheckRunsNested: it multiplies the check runs under
it. Four lets the 50 head commits of a page of 50 go in 2 requests of 1 point (10: 4 requests);
a commit with more suites (one per app, and per workflow for GitHub Actions) is followed up."""

CHECK_RUNS_PER_COMMIT = 1 + CHECK_SUITES_FIRST
"""CheckRuns, per commit id: checkSuites, and checkRuns under each of its suites."""

CHECK_RUNS_NESTED_PER_ITEM = 1 + CHECK_SUITES_FIRST + 1
"""CheckRunsNested, per id: both of its fragments count (GitHub costs the query, not the
answer): a Commit's checkSuites with their checkRuns, and a CheckSuite's checkRuns."""


def points(requests: int) -> int:
    """GitHub's score of a query of `requests` (R): R / 100 rounded half up, at least 1."""
    return max(1, (requests + 50) // 100)


def pr_page_requests(prs: int, connections: int = PR_PAGE_CONNECTIONS) -> int:
    """R of a page of `prs` PRs with `connections` connections under each: 1 + n x k."""
    return 1 + prs * connections


def pr_page_points(prs: int, connections: int = PR_PAGE_CONNECTIONS) -> int:
    return points(pr_page_requests(prs, connections))


def page_with_checks_points(prs: int) -> int:
    """Points of a page of `prs` PRs and of its head commits' check runs, which are asked per
    page (one checkpoint each), in the fewest 1-point batches."""
    checks = batches(prs, CHECK_RUNS_PER_COMMIT)
    return pr_page_points(prs) + sum(batch_points(size, CHECK_RUNS_PER_COMMIT) for size in checks)


def best_page_size(
    points_of: Callable[[int], int] = pr_page_points, largest: int = MAX_PAGE
) -> int:
    """The page size up to `largest` whose `points_of` is the fewest per PR (the larger on a
    tie). The page alone: 18 (R = 145, 1 point, 0.056 a PR; 50 PRs pay 4, 0.080). With its
    check runs: 29 (2 + 1 points, 0.103 a PR; 50 PRs pay 4 + 2, 0.120)."""
    sizes = range(1, max(1, min(largest, MAX_PAGE)) + 1)
    return min(sizes, key=lambda n: (points_of(n) / n, -n))


def batch_points(items: int, per_item: int) -> int:
    """Points of a batch of `items` aliases of R `per_item` each."""
    return points(items * per_item)


def batches(count: int, per_item: int) -> list[int]:
    """`count` items in the fewest 1-point batches, as even as can be (50 commits at 29 a
    point: 25 + 25, not 29 + 21)."""
    if count < 1:
        return []
    number = -(-count // batch_size(per_item))
    small, extra = divmod(count, number)
    return [small + 1] * extra + [small] * (number - extra)


def batch_size(per_item: int) -> int:
    """The most items one point covers (R <= 149). None of the batches here comes near
    GitHub's node limit at that size (500,000; tests/unit/test_plan.py checks it)."""
    return max(1, ONE_POINT // max(1, per_item))
