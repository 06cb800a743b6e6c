"""GraphQL documents from `queries/*.graphql`: one definition per file, named after the file.

An operation file is completed with the fragment files it spreads (transitively). Batched
operations (RepoMetadata, PullRequestNested, CheckRuns, CheckSuiteRuns...) describe one item
through a top-level field aliased `item`; `build_batch` repeats that field as
`item0..item{n-1}` with its variables suffixed `_0.._{n-1}`, so many repositories or PRs cost
one request, and `build_mixed` does so with items of several operations. The .graphql files
stay the only place with GraphQL text; batches are built on the parsed syntax tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
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
    SelectionNode,
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


def build_batch(name: str, count: int) -> DocumentNode:
    """Operation `name` with its `item` field repeated `count` times (aliases item0, item1...).

    Variables used by the item field become `<name>_<i>`; fill them with `batch_variables`.
    """
    if count < 1:
        raise ConfigError(f"a batch of {name} needs at least one item, got {count}")
    return build_mixed((name,) * count)


def build_mixed(names: tuple[str, ...]) -> DocumentNode:
    """One request of several batched operations: item i is the `item` field of operation
    `names[i]`, aliased `item<i>`, its variables suffixed `_<i>`. The operations' other fields
    (`rateLimit`) come once. Named after its operations (`CheckRunsAndCheckSuiteRuns`); of one
    operation it is that operation's batch. (`mixed_query` keeps the recent ones: mixed
    requests come in many compositions, and a document of 149 items is large.)"""
    if not names:
        raise ConfigError("a batch needs at least one item")
    operations = {name: _operation(name) for name in dict.fromkeys(names)}
    copies: list[FieldNode] = []
    used: dict[str, set[str]] = {}
    for index, name in enumerate(names):
        renamer = _VariableRenamer(f"_{index}")
        renamed = visit(_batch_field(operations[name]), renamer)
        copies.append(replace(renamed, alias=NameNode(value=f"{BATCH_ALIAS}{index}")))
        used[name] = renamer.used
    definitions: dict[str, VariableDefinitionNode] = {}
    for name, operation in operations.items():
        for definition in operation.variable_definitions or ():
            variable = definition.variable.name.value
            if variable not in used[name]:
                definitions.setdefault(variable, definition)
                continue
            for index in (i for i, each in enumerate(names) if each == name):
                new_name = NameNode(value=f"{variable}_{index}")
                definitions[new_name.value] = replace(
                    definition, variable=VariableNode(name=new_name)
                )
    others: dict[str, SelectionNode] = {}
    for operation in operations.values():
        item = _batch_field(operation)
        for selection in operation.selection_set.selections:
            if selection is not item:
                others.setdefault(print_ast(selection), selection)
    first = next(iter(operations.values()))
    batched = replace(
        first,
        name=NameNode(value="And".join(operations)),
        variable_definitions=tuple(definitions.values()),
        selection_set=SelectionSetNode(selections=(*copies, *others.values())),
    )
    return _with_fragments(batched)


@dataclass(frozen=True)
class Query:
    """A document to send, with its operation's name and its text, printed once: printing a
    batch of 149 items takes graphql-core ~45 ms, as long as the rest of a request's work
    here."""

    name: str
    document: DocumentNode
    text: str

    @classmethod
    def of(cls, document: DocumentNode) -> Query:
        return cls(document_name(document), document, print_ast(document))


@cache
def operation_query(name: str) -> Query:
    """Operation `name` (with its fragments), ready to send."""
    return Query.of(load_operation(name))


@lru_cache(maxsize=64)
def mixed_query(names: tuple[str, ...]) -> Query:
    """`build_mixed(names)`, ready to send."""
    return Query.of(build_mixed(names))


def document_name(document: DocumentNode) -> str:
    """The name of the document's operation."""
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode) and operation.name is not None
    return operation.name.value


def batch_variables(items: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """Variables of a batch: item i's `{"owner": "a"}` becomes `{"owner_0": "a"}`."""
    return {
        f"{key}_{index}": value for index, item in enumerate(items) for key, value in item.items()
    }


def batch_results(data: Mapping[str, Any], count: int) -> list[Any]:
    """Per-item results of a batch answer, in item order (None where GitHub answered null)."""
    return [data.get(f"{BATCH_ALIAS}{index}") for index in range(count)]
