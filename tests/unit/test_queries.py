"""Every GraphQL operation (and every built batch) is valid against GitHub's schema and cheap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import graphql
import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
)

from ghsync.emulator.cost import analyse
from ghsync.emulator.graph import github_schema
from ghsync.errors import ConfigError
from ghsync.github.operations import (
    batch_results,
    batch_variables,
    build_batch,
    build_mixed,
    load_operation,
    mixed_query,
    operation_names,
    operation_version,
)

BATCHED = [
    "RepoMetadata",
    "PullRequestNested",
    "PullRequestHead",
    "CheckRuns",
    "CheckRunsOnePass",
    "CommitCheckSuites",
    "CheckSuiteRuns",
]


def estimate_cost(document: DocumentNode, variables: dict[str, Any]) -> int:
    """GitHub's formula as the emulator applies it (skipped fields cost nothing)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return analyse(github_schema(), operation, fragments, variables).points


def test_the_queries_folder_holds_every_operation_the_client_uses() -> None:
    assert operation_names() == [
        "CheckRuns",
        "CheckRunsOnePass",
        "CheckSuiteRuns",
        "CommitCheckSuites",
        "OrgRepositories",
        "PullRequestHead",
        "PullRequestNested",
        "PullRequestPage",
        "RepoMetadata",
        "Viewer",
    ]


@pytest.mark.parametrize("name", operation_names())
def test_operation_is_valid_against_githubs_schema(name: str) -> None:
    assert graphql.validate(github_schema(), load_operation(name)) == []


@pytest.mark.parametrize("name", operation_names())
def test_operation_asks_for_its_rate_limit(name: str) -> None:
    text = graphql.print_ast(load_operation(name))
    assert "rateLimit {" in text
    for field in ("cost", "limit", "remaining", "resetAt", "used", "nodeCount"):
        assert f"  {field}\n" in text


@pytest.mark.parametrize("count", [1, 2, 50], ids=lambda n: f"{n}-items")
@pytest.mark.parametrize("name", BATCHED)
def test_built_batch_is_valid_and_has_one_alias_per_item(name: str, count: int) -> None:
    document = build_batch(name, count)
    assert graphql.validate(github_schema(), document) == []
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    aliases = [
        s.alias.value
        for s in operation.selection_set.selections
        if isinstance(s, FieldNode) and s.alias is not None
    ]
    assert aliases == [f"item{i}" for i in range(count)]


def test_a_mixed_batch_is_valid_and_names_its_operations() -> None:
    names = ("PullRequestNested", "CheckRuns", "CheckSuiteRuns", "CheckRuns")
    document = build_mixed(names)
    assert graphql.validate(github_schema(), document) == []
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert operation.name is not None
    assert operation.name.value == "PullRequestNestedAndCheckRunsAndCheckSuiteRuns"
    fields = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    assert [f.alias.value for f in fields if f.alias] == ["item0", "item1", "item2", "item3"]
    assert [f.name.value for f in fields].count("rateLimit") == 1
    variables = [d.variable.name.value for d in operation.variable_definitions]
    assert {"id_0", "after_0", "files_0", "id_1", "id_2", "after_2", "id_3"} <= set(variables)
    assert "after_1" not in variables  # CheckRuns has no `after`
    text = graphql.print_ast(document)
    assert text.count("fragment CheckSuiteFields") == 1 and "fragment CheckRunFields" in text


def test_a_mixed_query_is_printed_once_and_kept() -> None:
    names = ("CheckRuns", "CheckSuiteRuns", "CheckRuns")
    query = mixed_query(names)
    assert mixed_query(names) is query
    assert query.text == graphql.print_ast(build_mixed(names))
    assert query.name == "CheckRunsAndCheckSuiteRuns"


def test_batch_variables_are_suffixed_per_item_and_defaults_kept() -> None:
    document = build_batch("PullRequestNested", 2)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    names = [d.variable.name.value for d in operation.variable_definitions]
    assert names[:2] == ["id_0", "id_1"]
    assert "reviews_1" in names and "reviews" not in names
    variables = batch_variables([{"id": "PR_a", "reviews": True}, {"id": "PR_b", "after": "c"}])
    assert variables == {"id_0": "PR_a", "reviews_0": True, "id_1": "PR_b", "after_1": "c"}
    assert graphql.validate(github_schema(), document) == []


def test_batch_results_come_back_in_item_order_with_nulls() -> None:
    data = {"item1": {"id": "b"}, "item0": {"id": "a"}, "rateLimit": {"cost": 1}}
    assert batch_results(data, 3) == [{"id": "a"}, {"id": "b"}, None]


def test_a_non_batched_operation_cannot_be_batched() -> None:
    with pytest.raises(ConfigError, match="not batchable"):
        build_batch("PullRequestPage", 2)


def test_unknown_operation_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown GraphQL operation 'PullRequests'"):
        load_operation("PullRequests")


def test_operation_version_is_stable_and_distinct() -> None:
    versions = {name: operation_version(name) for name in operation_names()}
    assert versions["PullRequestPage"] == operation_version("PullRequestPage")
    assert len(set(versions.values())) == len(versions)


@pytest.mark.parametrize(
    ("page_size", "points"),
    [(21, 1), (25, 2), (50, 4), (100, 7)],
    ids=["21-prs", "25-prs", "50-prs", "100-prs"],
)
def test_pull_request_page_cost_by_githubs_formula(page_size: int, points: int) -> None:
    variables = {"owner": "o", "name": "n", "pageSize": page_size, "cursor": None}
    assert estimate_cost(load_operation("PullRequestPage"), variables) == points


def test_a_page_of_50_prs_costs_a_few_points() -> None:
    variables = {"owner": "o", "name": "n", "pageSize": 50}
    assert estimate_cost(load_operation("PullRequestPage"), variables) <= 5


def test_metadata_of_149_repos_costs_one_point() -> None:
    items = [{"owner": "o", "name": f"r{i}"} for i in range(149)]
    assert estimate_cost(build_batch("RepoMetadata", 149), batch_variables(items)) == 1


def test_nested_follow_up_for_149_prs_costs_one_point() -> None:
    items = [{"id": f"PR_{i}", "after": "x", "commits": True} for i in range(149)]
    assert estimate_cost(build_batch("PullRequestNested", 149), batch_variables(items)) == 1


def test_check_suites_of_149_commits_cost_one_point() -> None:
    items = [{"id": f"C_{i}"} for i in range(149)]
    assert estimate_cost(build_batch("CheckRuns", 149), batch_variables(items)) == 1


@pytest.mark.parametrize(
    "path",
    sorted((Path(__file__).parents[1] / "bench" / "shapes").glob("*.graphql")),
    ids=lambda p: p.stem,
)
def test_the_benchmarks_check_run_shapes_are_valid_against_githubs_schema(path: Path) -> None:
    assert graphql.validate(github_schema(), graphql.parse(path.read_text())) == []
