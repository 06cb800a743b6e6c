"""ghsync.github.plan against the emulator's cost calculation of the real queries."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode

from ghsync.emulator.cost import QueryCost, analyse
from ghsync.emulator.graph import github_schema
from ghsync.github import fetch, plan
from ghsync.github.operations import batch_variables, build_batch, load_operation


def emulator_cost(document: DocumentNode, variables: dict[str, Any]) -> QueryCost:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return analyse(github_schema(), operation, fragments, variables)


def page(prs: int) -> QueryCost:
    variables = {"owner": "o", "name": "n", "pageSize": prs, "cursor": None}
    return emulator_cost(load_operation("PullRequestPage"), variables)


def batch(name: str, items: list[dict[str, Any]]) -> QueryCost:
    return emulator_cost(build_batch(name, len(items)), batch_variables(items))


def nested(count: int) -> QueryCost:
    return batch("PullRequestNested", [{"id": "P", "after": "x", "files": True}] * count)


def metadata(count: int) -> QueryCost:
    return batch("RepoMetadata", [{"owner": "o", "name": "n"}] * count)


def check_runs(count: int) -> QueryCost:
    return batch("CheckRuns", [{"id": "C"}] * count)


def check_runs_nested(count: int) -> QueryCost:
    return batch("CheckRunsNested", [{"id": "C", "after": "x"}] * count)


@pytest.mark.parametrize("requests", [0, 1, 49, 50, 149, 150, 249, 250, 5101])
def test_points_round_as_the_emulator_does(requests: int) -> None:
    assert plan.points(requests) == QueryCost(requests=requests).points


@pytest.mark.parametrize("prs", [1, 17, 18, 19, 31, 50, 100])
def test_the_pr_page_costs_what_the_formula_says(prs: int) -> None:
    cost = page(prs)
    assert cost.requests == plan.pr_page_requests(prs) == 1 + prs * plan.PR_PAGE_CONNECTIONS
    assert cost.points == plan.pr_page_points(prs)


@pytest.mark.parametrize(("connections", "best"), [(8, 18), (7, 21), (12, 12), (1, 100)])
def test_the_best_page_size_pays_the_fewest_points_per_pr(connections: int, best: int) -> None:
    def points_of(prs: int) -> int:
        return plan.pr_page_points(prs, connections)

    assert plan.best_page_size(points_of) == best
    per_pr = {n: points_of(n) / n for n in range(1, 101)}
    assert per_pr[best] == min(per_pr.values())


def test_with_its_check_runs_a_page_of_29_pays_the_fewest_points_per_pr() -> None:
    assert plan.best_page_size(plan.page_with_checks_points) == 29
    assert page(29).points + check_runs(29).points == plan.page_with_checks_points(29) == 3
    assert plan.page_with_checks_points(50) == page(50).points + 2 * check_runs(25).points == 6


def test_a_page_of_18_costs_1_point_and_50_cost_4() -> None:
    assert (page(18).requests, page(18).points) == (145, 1)
    assert page(50).points == 4
    assert plan.best_page_size(largest=10) == 10


@pytest.mark.parametrize(
    ("query", "per_item"),
    [
        (nested, plan.NESTED_PER_ITEM),
        (metadata, plan.METADATA_PER_ITEM),
        (check_runs, plan.CHECK_RUNS_PER_COMMIT),
        (check_runs_nested, plan.CHECK_RUNS_NESTED_PER_ITEM),
    ],
    ids=["nested", "metadata", "check-runs", "check-runs-nested"],
)
def test_batches_cost_what_the_plan_says(query: Any, per_item: int) -> None:
    for count in (1, 7, 24, 50):
        cost = query(count)
        assert cost.requests == count * per_item
        assert cost.points == plan.batch_points(count, per_item)
    size = plan.batch_size(per_item)
    assert query(size).points == 1
    assert query(size + 1).points == 2  # the largest batch that costs 1 point
    assert query(size).node_count < 500_000


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(0, []), (1, [1]), (29, [29]), (30, [15, 15]), (50, [25, 25]), (59, [20, 20, 19])],
)
def test_batches_are_the_fewest_1_point_requests_evenly_filled(
    count: int, sizes: list[int]
) -> None:
    assert plan.batches(count, plan.CHECK_RUNS_PER_COMMIT) == sizes
    assert all(check_runs(size).points == 1 for size in sizes)


def test_the_head_commits_of_a_page_of_50_cost_2_points() -> None:
    assert plan.CHECK_SUITES_FIRST == 4
    assert (
        sum(check_runs(size).points for size in plan.batches(50, plan.CHECK_RUNS_PER_COMMIT)) == 2
    )
    assert check_runs(50).points == 3  # in one request: R = 250


def test_the_metadata_of_149_repositories_costs_1_point() -> None:
    assert fetch.METADATA_BATCH == 149
    assert metadata(fetch.METADATA_BATCH).points == 1
