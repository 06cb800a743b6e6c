"""GitHub's cost formula and pagination rules, answered over HTTP."""

from __future__ import annotations

import pytest

from ghsync.emulator import Emulator
from tests.integration.emulator.conftest import graphql, sample


def test_docs_example_costs_51_points(emulator: Emulator) -> None:
    answer = graphql(emulator, sample("docs_cost_example"))
    body = answer.json()
    assert answer.status == 200, body
    assert "errors" not in body
    assert body["data"]["rateLimit"]["cost"] == 51
    assert body["data"]["rateLimit"]["nodeCount"] == 100 + 100 * 50 + 100 * 50 * 60


@pytest.mark.parametrize(("first", "points"), [(25, 2), (50, 4), (100, 7)], ids=lambda v: str(v))
def test_pr_page_costs_as_facts_say(emulator: Emulator, first: int, points: int) -> None:
    before = int(graphql(emulator, "{ rateLimit { used } }").headers["x-ratelimit-used"])
    answer = graphql(
        emulator, sample("pr_page"), {"owner": "acme", "name": "repo-1", "first": first}
    )
    body = answer.json()
    assert "errors" not in body, body["errors"]
    assert body["data"]["rateLimit"]["cost"] == points
    assert int(answer.headers["x-ratelimit-used"]) == before + points
    assert len(body["data"]["repository"]["pullRequests"]["nodes"]) == min(first, 60)


def test_commit_authors_connection_multiplies_cost(emulator: Emulator) -> None:
    query = sample("pr_page").replace(
        "author {\n                email",
        "authors(first: 5) { nodes { email } }\n              author {\n                email",
    )
    assert "authors(first: 5)" in query
    body = graphql(emulator, query, {"owner": "acme", "name": "repo-1", "first": 50}).json()
    assert body["data"]["rateLimit"]["cost"] == 29


def test_connection_without_first_or_last_is_rejected(emulator: Emulator) -> None:
    answer = graphql(
        emulator, '{ repository(owner: "acme", name: "repo-1") { pullRequests { totalCount } } }'
    )
    body = answer.json()
    assert answer.status == 200
    assert "data" not in body
    (error,) = body["errors"]
    assert error["type"] == "MISSING_PAGINATION_BOUNDARIES"
    assert error["path"] == ["repository", "pullRequests"]
    assert error["message"] == (
        "You must provide a `first` or `last` value to properly paginate the `pullRequests` "
        "connection."
    )


@pytest.mark.parametrize("argument", ["first", "last"])
def test_page_of_101_is_rejected(emulator: Emulator, argument: str) -> None:
    body = graphql(
        emulator,
        '{ repository(owner: "acme", name: "repo-1") '
        f"{{ pullRequests({argument}: 101) {{ totalCount }} }} }}",
    ).json()
    (error,) = body["errors"]
    assert error["type"] == "EXCESSIVE_PAGINATION"
    assert error["message"] == (
        f"Requesting 101 records on the `pullRequests` connection exceeds the `{argument}` limit "
        "of 100 records."
    )


def test_rejected_query_costs_nothing(emulator: Emulator) -> None:
    before = graphql(emulator, "{ rateLimit { used } }").headers["x-ratelimit-used"]
    graphql(
        emulator, '{ repository(owner: "acme", name: "repo-1") { pullRequests { totalCount } } }'
    )
    after = graphql(emulator, "{ rateLimit { used } }").headers["x-ratelimit-used"]
    assert int(after) == int(before) + 1  # only the second rateLimit query (1 point) counts


def test_schema_violations_are_reported(emulator: Emulator) -> None:
    body = graphql(emulator, '{ repository(owner: "acme", name: "repo-1") { checkSuites } }').json()
    assert "data" not in body
    assert "checkSuites" in body["errors"][0]["message"]


def test_dry_run_costs_nothing_and_returns_the_cost(emulator: Emulator) -> None:
    query = sample("pr_page").replace("rateLimit {", "rateLimit(dryRun: true) {")
    answer = graphql(emulator, query, {"owner": "acme", "name": "repo-1", "first": 50})
    body = answer.json()
    assert body["data"]["rateLimit"]["cost"] == 4
    assert body["data"]["repository"] is None
    used = int(answer.headers["x-ratelimit-used"])
    assert int(graphql(emulator, "{ rateLimit { used } }").headers["x-ratelimit-used"]) == used + 1


def test_fields_left_out_by_directives_cost_nothing(emulator: Emulator) -> None:
    query = """query($with: Boolean!) { repository(owner: "acme", name: "repo-1") {
      pullRequests(first: 100) { nodes {
        files(first: 100) @include(if: $with) { totalCount }
        reviews(first: 100) @skip(if: true) { totalCount } } } }
      rateLimit { cost nodeCount } }"""
    counts = [
        graphql(emulator, query, {"with": flag}).json()["data"]["rateLimit"]["nodeCount"]
        for flag in (True, False)
    ]
    assert counts == [100 + 100 * 100, 100]  # the skipped reviews count in neither


@pytest.mark.parametrize(("ids", "points"), [(1, 1), (13, 1), (50, 6)], ids=lambda v: str(v))
def test_connections_under_nodes_cost_once_per_id(
    emulator: Emulator, ids: int, points: int
) -> None:
    """Every id of `nodes(ids:)` is a possible parent: 50 commits x (checkSuites(first: 10) +
    10 x checkRuns) = 550 requests -> 6 points, not 1."""
    query = (
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Commit { checkSuites(first: 10) "
        "{ nodes { checkRuns(first: 100) { totalCount } } } } } "
        "rateLimit(dryRun: true) { cost nodeCount } }"
    )
    body = graphql(emulator, query, {"ids": ["x"] * ids}).json()
    assert body["data"]["rateLimit"]["cost"] == points
    assert body["data"]["rateLimit"]["nodeCount"] == ids * (10 + 10 * 100)
