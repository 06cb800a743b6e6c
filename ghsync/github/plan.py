"""Query sizes from GitHub's point formula (shared/github/FACTS.md, "Point cost").

A query costs round(R / 100) points, at least 1, where R adds up, over every connection, the
number of its possible parents (the product of the page sizes above it; under
`nodes(ids:)`, the ids). The `first` of a connection with no connection below it does not
change R: only how many connections there are, and the page or batch sizes above them.

So the plan is: no connection under another in any query but the PR page (which has 7 under
each PR), and every list completed by batches of `node(id:)` items with one connection each
(R = 1 an item): a PR page of 21 (R = 148) and a batch of 149 items cost 1 point each, the
most R a point buys. A head commit's CI costs 1 + its check suites: the commit's suites (one
item), then each suite's runs (one item per suite that exists), never a request for a suite
that is not there, as `checkSuites(first: k) { checkRuns }` would charge for k.

The figures here are those of the queries in `queries/`; tests/unit/test_plan.py checks each
against the emulator's cost calculation of the real documents.
"""

from __future__ import annotations

from collections.abc import Callable

ONE_POINT = 149
"""The largest R that still costs 1 point (1.49 rounds to 1)."""

MAX_PAGE = 100
"""`first`/`last` are at most 100."""

PR_PAGE_CONNECTIONS = 7
"""Connections under each PR of PullRequestPage: labels, assignees, closingIssuesReferences,
reviewRequests, reviews, commits, files. The head commit is found in `commits` (no
`commits(last: 1)`: 8 connections made a page of 50 cost 4 points, 18 PRs a point)."""

ITEM_REQUESTS = 1
"""R of one item of every batched operation (RepoMetadata, PullRequestNested, PullRequestHead,
CheckRuns, CommitCheckSuites, CheckSuiteRuns): one connection under its node."""

BATCH_SIZE = ONE_POINT // ITEM_REQUESTS
"""Items per request: 149 cost 1 point. No batch comes near GitHub's node limit at that size
(500,000; tests/unit/test_plan.py checks it)."""


def points(requests: int) -> int:
    """GitHub's score of a query of `requests` (R): R / 100 rounded half up, at least 1."""
    return max(1, (requests + 50) // 100)


def pr_page_requests(prs: int, connections: int = PR_PAGE_CONNECTIONS) -> int:
    """R of a page of `prs` PRs with `connections` connections under each: 1 + n x k."""
    return 1 + prs * connections


def pr_page_points(prs: int, connections: int = PR_PAGE_CONNECTIONS) -> int:
    return points(pr_page_requests(prs, connections))


def best_page_size(
    points_of: Callable[[int], int] = pr_page_points, largest: int = MAX_PAGE
) -> int:
    """The page size up to `largest` whose `points_of` is the fewest per PR (the larger on a
    tie): 21 (R = 148, 1 point, 0.048 a PR; 50 PRs pay 4, 0.080; 100 pay 7)."""
    sizes = range(1, max(1, min(largest, MAX_PAGE)) + 1)
    return min(sizes, key=lambda n: (points_of(n) / n, -n))


PR_PAGE_SIZE = best_page_size()
"""The default page size: 21 PRs, R = 148, 1 point."""


def check_runs_requests(suites: int) -> int:
    """R of a head commit's CI: its check suites (CheckRuns), and the runs of each suite
    (CheckSuiteRuns), up to 100 suites and 100 runs a suite; or, in one item, its first
    `suites` suites with their runs (CheckRunsOnePass)."""
    return ITEM_REQUESTS * (1 + suites)


ONE_PASS_SUITES = 4
"""The fewest check suites a CheckRunsOnePass item asks (one per app, and per workflow of
GitHub Actions), until a commit showed more."""


def batches(count: int) -> list[int]:
    """`count` items in the fewest 1-point requests, as even as can be (160 items: 80 + 80,
    not 149 + 11)."""
    if count < 1:
        return []
    number = -(-count // BATCH_SIZE)
    small, extra = divmod(count, number)
    return [small + 1] * extra + [small] * (number - extra)
