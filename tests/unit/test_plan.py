"""ghsync.github.plan against the emulator's cost calculation of the real queries."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode

from ghsync.config import DEFAULT_OPTIONS
from ghsync.emulator.cost import QueryCost, analyse
from ghsync.emulator.graph import github_schema
from ghsync.github import fetch, plan
from ghsync.github.operations import batch_variables, build_mixed, load_operation


def emulator_cost(document: DocumentNode, variables: dict[str, Any]) -> QueryCost:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return analyse(github_schema(), operation, fragments, variables)


def page(prs: int) -> QueryCost:
    variables = {"owner": "o", "name": "n", "pageSize": prs, "cursor": None}
    return emulator_cost(load_operation("PullRequestPage"), variables)


ITEMS = {
    "RepoMetadata": {"owner": "o", "name": "n"},
    "PullRequestNested": {"id": "P", "after": "x", "files": True},
    "PullRequestHead": {"id": "P"},
    "CheckRuns": {"id": "C"},
    "CommitCheckSuites": {"id": "C", "after": "x"},
    "CheckSuiteRuns": {"id": "S", "after": None},
}
"""Every batched operation, with an item's variables."""


def mixed(names: list[str]) -> QueryCost:
    return emulator_cost(build_mixed(tuple(names)), batch_variables([ITEMS[n] for n in names]))


@pytest.mark.parametrize("requests", [0, 1, 49, 50, 149, 150, 249, 250, 5101])
def test_points_round_as_the_emulator_does(requests: int) -> None:
    assert plan.points(requests) == QueryCost(requests=requests).points


@pytest.mark.parametrize("prs", [1, 17, 18, 21, 22, 31, 50, 100])
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


def test_a_page_of_21_costs_1_point_and_is_the_default() -> None:
    assert (page(21).requests, page(21).points) == (148, 1)
    assert page(22).points == 2 and page(50).points == 4 and page(100).points == 7
    assert plan.PR_PAGE_SIZE == 21 == DEFAULT_OPTIONS.page_size
    assert plan.best_page_size(largest=10) == 10


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_every_batched_item_is_one_request(name: str) -> None:
    for count in (1, 7, 50, plan.BATCH_SIZE):
        cost = mixed([name] * count)
        assert cost.requests == count * plan.ITEM_REQUESTS
    assert mixed([name] * plan.BATCH_SIZE).points == 1
    assert mixed([name] * (plan.BATCH_SIZE + 1)).points == 2  # 149 is the most a point buys
    assert mixed([name] * plan.BATCH_SIZE).node_count < 500_000


def test_a_mixed_request_costs_its_items() -> None:
    names = [name for name in sorted(ITEMS) for _ in range(25)][: plan.BATCH_SIZE]
    cost = mixed(names)
    assert cost.requests == len(names) == plan.BATCH_SIZE and cost.points == 1


@pytest.mark.parametrize("suites", [0, 1, 3, 100])
def test_a_commits_ci_costs_1_plus_its_suites(suites: int) -> None:
    commit = mixed(["CheckRuns"]).requests
    runs = mixed(["CheckSuiteRuns"] * suites).requests if suites else 0
    assert commit + runs == plan.check_runs_requests(suites) == 1 + suites


@pytest.mark.parametrize("suites", [1, plan.ONE_PASS_SUITES, 48])
def test_in_one_pass_a_commit_costs_1_plus_the_suites_asked(suites: int) -> None:
    one_pass = {"id": "C", "suites": suites}
    cost = emulator_cost(build_mixed(("CheckRunsOnePass",) * 3), batch_variables([one_pass] * 3))
    assert cost.requests == 3 * plan.check_runs_requests(suites)


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(0, []), (1, [1]), (149, [149]), (150, [75, 75]), (300, [100, 100, 100])],
)
def test_batches_are_the_fewest_1_point_requests_evenly_filled(
    count: int, sizes: list[int]
) -> None:
    assert plan.batches(count) == sizes
    assert all(mixed(["CheckRuns"] * size).points == 1 for size in sizes)


def test_the_metadata_of_149_repositories_costs_1_point() -> None:
    assert fetch.METADATA_BATCH == 149
    assert mixed(["RepoMetadata"] * fetch.METADATA_BATCH).points == 1
