"""Connections: cursors walk every item once, orderings hold, node ids resolve."""

from __future__ import annotations

from typing import Any

import pytest

from ghsync.emulator import Emulator
from tests.integration.emulator.conftest import graphql

WALK = """
query($after: String, $before: String, $first: Int, $last: Int, $field: IssueOrderField!,
      $direction: OrderDirection!) {
  repository(owner: "acme", name: "repo-1") {
    pullRequests(first: $first, last: $last, after: $after, before: $before,
                 orderBy: {field: $field, direction: $direction}) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { number updatedAt createdAt } }
    }
  }
}
"""


def walk(
    emulator: Emulator, field: str, direction: str, size: int, on_page: Any = None
) -> list[dict[str, Any]]:
    """Follow endCursor until hasNextPage is false; `on_page` runs between pages."""
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        body = graphql(
            emulator, WALK, {"after": after, "first": size, "field": field, "direction": direction}
        ).json()
        connection = body["data"]["repository"]["pullRequests"]
        seen += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return seen
        after = connection["pageInfo"]["endCursor"]
        if on_page:
            on_page()


@pytest.mark.parametrize(
    ("field", "direction", "size"),
    [
        ("UPDATED_AT", "DESC", 7),
        ("UPDATED_AT", "ASC", 50),
        ("CREATED_AT", "ASC", 13),
        ("CREATED_AT", "DESC", 100),
    ],
    ids=["updated-desc-7", "updated-asc-50", "created-asc-13", "created-desc-100"],
)
def test_walk_sees_every_pr_exactly_once_in_order(
    emulator: Emulator, field: str, direction: str, size: int
) -> None:
    seen = walk(emulator, field, direction, size)
    numbers = [node["number"] for node in seen]
    assert sorted(numbers) == sorted(
        {pr["number"] for pr in emulator.truth("acme/repo-1")["pullRequests"]}
    )
    assert len(numbers) == len(set(numbers)) == 60
    key = "updatedAt" if field == "UPDATED_AT" else "createdAt"
    values = [node[key] for node in seen]
    assert values == sorted(values, reverse=direction == "DESC")


def test_backwards_with_last_and_before(emulator: Emulator) -> None:
    forwards = [n["number"] for n in walk(emulator, "UPDATED_AT", "DESC", 100)]
    backwards: list[int] = []
    before = None
    while True:
        body = graphql(
            emulator,
            WALK,
            {"before": before, "last": 9, "field": "UPDATED_AT", "direction": "DESC"},
        ).json()
        connection = body["data"]["repository"]["pullRequests"]
        backwards = [e["node"]["number"] for e in connection["edges"]] + backwards
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
    assert backwards == forwards


def test_pr_updated_during_a_desc_walk_jumps_ahead_without_duplicates(fresh: Emulator) -> None:
    """Keyset cursors: the moved PR is behind the cursor now (seen next sync), the rest once."""
    numbers_before = {pr["number"] for pr in fresh.truth("acme/repo-1")["pullRequests"]}
    oldest = min(fresh.truth("acme/repo-1")["pullRequests"], key=lambda pr: pr["updatedAt"])
    moved = []

    def touch_oldest_once() -> None:
        if not moved:
            moved.append(fresh.activity("touch", "acme/repo-1", oldest["number"]))

    seen = [n["number"] for n in walk(fresh, "UPDATED_AT", "DESC", 10, touch_oldest_once)]
    assert moved
    assert len(seen) == len(set(seen))
    assert set(seen) == numbers_before - {oldest["number"]}
    first = [n["number"] for n in walk(fresh, "UPDATED_AT", "DESC", 1)][:1]
    assert first == [oldest["number"]]


def test_bad_cursor_is_an_error(emulator: Emulator) -> None:
    body = graphql(
        emulator,
        WALK,
        {"after": "bm9wZQ==", "first": 5, "field": "UPDATED_AT", "direction": "DESC"},
    ).json()
    assert body["data"]["repository"] is None
    assert "not appear to be a valid cursor" in body["errors"][0]["message"]


def test_nested_connection_pages_beyond_100(emulator: Emulator) -> None:
    """PR #2 of a regular repo has 130 reviews: two pages of 100 and 30 by cursor."""
    truth = {pr["number"]: pr for pr in emulator.truth("acme/repo-1")["pullRequests"]}
    query = """query($after: String) { repository(owner: "acme", name: "repo-1") {
      pullRequest(number: 2) { reviews(first: 100, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { fullDatabaseId } } } } }"""
    ids: list[str] = []
    after = None
    while True:
        reviews = graphql(emulator, query, {"after": after}).json()["data"]["repository"]
        page = reviews["pullRequest"]["reviews"]
        assert page["totalCount"] == 130
        ids += [node["fullDatabaseId"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert ids == [str(r["databaseId"]) for r in truth[2]["reviews"]]


def test_node_and_nodes_resolve_global_ids_with_typename(emulator: Emulator) -> None:
    truth = emulator.truth("acme/repo-1")["pullRequests"]
    ids = [pr["id"] for pr in truth[:3]]
    body = graphql(
        emulator,
        """query($id: ID!, $ids: [ID!]!) {
      node(id: $id) { __typename ... on PullRequest { number } }
      nodes(ids: $ids) { __typename id ... on PullRequest { number } } }""",
        {"id": ids[0], "ids": ids},
    ).json()
    assert body["data"]["node"] == {"__typename": "PullRequest", "number": truth[0]["number"]}
    assert [n["id"] for n in body["data"]["nodes"]] == ids
    missing = graphql(emulator, '{ node(id: "PR_kwDOnope") { id } }').json()
    assert missing["data"]["node"] is None
    assert missing["errors"][0]["type"] == "NOT_FOUND"


def test_union_members_resolve_by_typename(emulator: Emulator) -> None:
    """PR #12 has 14 review requests, some of them Teams (`org/slug`)."""
    body = graphql(
        emulator,
        """{ repository(owner: "acme", name: "repo-1") {
      pullRequest(number: 12) { reviewRequests(first: 20) { nodes { requestedReviewer {
        __typename ... on User { login } ... on Team { combinedSlug } } } } } } }""",
    ).json()
    reviewers = [
        n["requestedReviewer"]
        for n in body["data"]["repository"]["pullRequest"]["reviewRequests"]["nodes"]
    ]
    kinds = {r["__typename"] for r in reviewers}
    assert kinds == {"User", "Team"}
    truth = {pr["number"]: pr for pr in emulator.truth("acme/repo-1")["pullRequests"]}
    assert [r.get("login") or r.get("combinedSlug") for r in reviewers] == truth[12][
        "requestedReviewers"
    ]


def test_org_lists_repositories_and_filters_archived(emulator: Emulator) -> None:
    query = """query($archived: Boolean) { organization(login: "acme") {
      repositories(first: 50, isArchived: $archived) { totalCount nodes { name isArchived } } } }"""
    every = graphql(emulator, query).json()["data"]["organization"]["repositories"]
    live = graphql(emulator, query, {"archived": False}).json()["data"]["organization"][
        "repositories"
    ]
    assert {r["name"] for r in every["nodes"]} == {"repo-1", "repo-2", "empty", "archived"}
    assert {r["name"] for r in live["nodes"]} == {"repo-1", "repo-2", "empty"}
    empty = graphql(
        emulator, '{ organization(login: "acme-empty") { repositories(first: 10) { totalCount } } }'
    ).json()
    assert empty["data"]["organization"]["repositories"]["totalCount"] == 0
