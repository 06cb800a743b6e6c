"""GraphQL documents from `queries/*.graphql`: one definition per file, named after the file.

An operation file is completed with the fragment files it spreads (transitively). Batched
operations (RepoMetadata, PullRequestNested, CheckRunsNested) describe one item through a
top-level field aliased `item`; `build_batch` repeats that field as `item0..item{n-1}` with its
variables suffixed `_0.._{n-1}`, so many repositories or PRs cost one request. The .graphql
files stay the only place with GraphQL text; batches are built on the parsed syntax tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any

from graphql import (
    DefinitionNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

from ghsync.errors import ConfigError

BATCH_ALIAS = "item"
"""Alias of the per-item field in a batched operation file."""


@cache
def _definitions() -> dict[str, DefinitionNode]:
    """Every definition of the queries folder, by name; a file holds one, named after it."""
    folder = resources.files("ghsync.github").joinpath("queries")
    found: dict[str, DefinitionNode] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".graphql"):
            continue
        document = parse(entry.read_text(encoding="utf-8"))
        name = entry.name.removesuffix(".graphql")
        (definition,) = document.definitions
        if not isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            raise ConfigError(f"queries/{entry.name}: expected an operation or a fragment")
        if definition.name is None or definition.name.value != name:
            raise ConfigError(f"queries/{entry.name}: its definition must be named {name}")
        found[name] = definition
    return found


def operation_names() -> list[str]:
    """Names of all operations (not fragments) in the queries folder, sorted."""
    return sorted(n for n, d in _definitions().items() if isinstance(d, OperationDefinitionNode))


def _operation(name: str) -> OperationDefinitionNode:
    definition = _definitions().get(name)
    if not isinstance(definition, OperationDefinitionNode):
        raise ConfigError(f"unknown GraphQL operation {name!r}; known: {operation_names()}")
    return definition


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.names.add(node.name.value)


def _with_fragments(operation: OperationDefinitionNode) -> DocumentNode:
    """The operation followed by every fragment it needs, in name order (a stable text)."""
    definitions = _definitions()
    needed: dict[str, FragmentDefinitionNode] = {}
    pending: list[DefinitionNode] = [operation]
    while pending:
        collector = _SpreadCollector()
        visit(pending.pop(), collector)
        for name in collector.names - needed.keys():
            fragment = definitions.get(name)
            if not isinstance(fragment, FragmentDefinitionNode):
                raise ConfigError(f"fragment {name!r} has no file in queries/")
            needed[name] = fragment
            pending.append(fragment)
    return DocumentNode(definitions=(operation, *(needed[n] for n in sorted(needed))))


@cache
def load_operation(name: str) -> DocumentNode:
    """The document of operation `name`, with its fragments."""
    return _with_fragments(_operation(name))


@cache
def operation_version(name: str) -> str:
    """A short hash of the operation's text: part of cache keys, so a query change re-fetches."""
    return hashlib.sha256(print_ast(load_operation(name)).encode()).hexdigest()[:12]


class _VariableRenamer(Visitor):
    def __init__(self, suffix: str) -> None:
        super().__init__()
        self.suffix = suffix
        self.used: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: Any) -> VariableNode:
        self.used.add(node.name.value)
        return VariableNode(name=NameNode(value=f"{node.name.value}{self.suffix}"))


def _batch_field(operation: OperationDefinitionNode) -> FieldNode:
    for selection in operation.selection_set.selections:
        if (
            isinstance(selection, FieldNode)
            and selection.alias
            and selection.alias.value == BATCH_ALIAS
        ):
            return selection
    name = operation.name.value if operation.name else "?"
    raise ConfigError(f"operation {name} has no field aliased {BATCH_ALIAS!r}: not batchable")


@cache
def build_batch(name: str, count: int) -> DocumentNode:
    """Operation `name` with its `item` field repeated `count` times (aliases item0, item1...).

    Variables used by the item field become `<name>_<i>`; fill them with `batch_variables`.
    """
    if count < 1:
        raise ConfigError(f"a batch of {name} needs at least one item, got {count}")
    operation = _operation(name)
    item = _batch_field(operation)
    copies: list[FieldNode] = []
    per_item: set[str] = set()
    for index in range(count):
        renamer = _VariableRenamer(f"_{index}")
        renamed = visit(item, renamer)
        copies.append(replace(renamed, alias=NameNode(value=f"{BATCH_ALIAS}{index}")))
        per_item = renamer.used
    definitions: list[VariableDefinitionNode] = []
    for definition in operation.variable_definitions or ():
        variable = definition.variable.name.value
        if variable not in per_item:
            definitions.append(definition)
            continue
        for index in range(count):
            new_name = NameNode(value=f"{variable}_{index}")
            definitions.append(replace(definition, variable=VariableNode(name=new_name)))
    others = tuple(s for s in operation.selection_set.selections if s is not item)
    batched = replace(
        operation,
        variable_definitions=tuple(definitions),
        selection_set=SelectionSetNode(selections=(*copies, *others)),
    )
    return _with_fragments(batched)


def batch_variables(items: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """Variables of a batch: item i's `{"owner": "a"}` becomes `{"owner_0": "a"}`."""
    return {
        f"{key}_{index}": value for index, item in enumerate(items) for key, value in item.items()
    }


def batch_results(data: Mapping[str, Any], count: int) -> list[Any]:
    """Per-item results of a batch answer, in item order (None where GitHub answered null)."""
    return [data.get(f"{BATCH_ALIAS}{index}") for index in range(count)]
