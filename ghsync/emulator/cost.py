"""GitHub's GraphQL cost formula and pagination rules, applied to a parsed query.

Cost: add up the requests needed to fulfil each connection, assuming every `first`/`last` is
reached (a nested connection costs one request per possible parent), divide by 100, round,
minimum 1. Under `nodes(ids: [...])` each id is a possible parent. nodeCount: the most nodes
the query can return. Docs example: 1 + 100 + 5,000 requests -> 51 points. Pagination misuse
is rejected here, before execution, as GitHub does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    ValueNode,
    get_location,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.pyutils import Undefined
from graphql.type.definition import GraphQLInterfaceType

MAX_PAGE = 100


@dataclass
class QueryCost:
    """The outcome of the static analysis of one operation."""

    requests: int = 0
    node_count: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def points(self) -> int:
        """GitHub's score: requests / 100, rounded half up, at least 1."""
        return max(1, (self.requests + 50) // 100)


def analyse(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> QueryCost:
    """Cost, worst-case nodeCount and pagination errors of `operation` with `variables`."""
    defaults = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
    assert root is not None
    walker = _Walker(schema, fragments, {**defaults, **variables}, QueryCost())
    walker.walk(root, operation.selection_set, 1, [])
    return walker.cost


@dataclass
class _Walker:
    """One walk over an operation's selections, adding up requests and nodes."""

    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    cost: QueryCost

    def walk(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        multiplier: int,
        path: list[str],
    ) -> None:
        """Visit the fields of a selection set, through fragments, under `multiplier` parents."""
        for selection in selection_set.selections:
            if not self.included(selection):
                continue
            if isinstance(selection, FieldNode):
                self.visit(parent, selection, multiplier, path)
                continue
            target: NamedTypeNode | None
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                target, selections = fragment.type_condition, fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                target, selections = selection.type_condition, selection.selection_set
            scope = self.schema.get_type(target.name.value) if target else parent
            assert scope is not None
            self.walk(scope, selections, multiplier, path)

    def included(self, node: SelectionNode) -> bool:
        """False for a selection that `@include(if: false)` or `@skip(if: true)` leaves out:
        it is not executed, so it costs nothing."""
        for directive in node.directives or ():
            if directive.name.value in ("include", "skip") and directive.arguments:
                condition = bool(_value(directive.arguments[0].value, self.variables))
                if condition != (directive.name.value == "include"):
                    return False
        return True

    def visit(
        self, parent: GraphQLNamedType, node: FieldNode, multiplier: int, path: list[str]
    ) -> None:
        """Count one field: a connection costs one request per possible parent."""
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return
        definition: GraphQLField | None = parent.fields.get(name)
        if definition is None:
            return
        here = [*path, node.alias.value if node.alias else name]
        args = {arg.name.value: _value(arg.value, self.variables) for arg in node.arguments or ()}
        if name == "rateLimit" and args.get("dryRun"):
            self.cost.dry_run = True
        child_multiplier = multiplier
        if _is_connection(definition):
            size = _page_size(name, args, here, node, self.cost)
            self.cost.requests += multiplier
            self.cost.node_count += multiplier * size
            child_multiplier = multiplier * max(size, 1)
        elif name == "nodes" and isinstance(args.get("ids"), list):
            child_multiplier = multiplier * max(len(args["ids"]), 1)
        if node.selection_set is not None:
            self.walk(get_named_type(definition.type), node.selection_set, child_multiplier, here)


def _value(node: ValueNode, variables: dict[str, Any]) -> Any:
    """An argument's value; a variable the request did not send counts as absent."""
    value = value_from_ast_untyped(node, variables)
    return None if value is Undefined else value


def _is_connection(definition: GraphQLField) -> bool:
    return "first" in definition.args and get_named_type(definition.type).name.endswith(
        "Connection"
    )


def _page_size(
    name: str, args: dict[str, Any], path: list[str], node: FieldNode, cost: QueryCost
) -> int:
    """The connection's page size, or a GitHub-worded error when first/last is misused."""
    first, last = args.get("first"), args.get("last")
    location = None
    if node.loc is not None and node.loc.source is not None:
        where = get_location(node.loc.source, node.loc.start)
        location = {"line": where.line, "column": where.column}
    if first is None and last is None:
        _error(
            cost,
            "MISSING_PAGINATION_BOUNDARIES",
            path,
            location,
            f"You must provide a `first` or `last` value to properly paginate the `{name}` "
            "connection.",
        )
        return 0
    for argument, value in (("first", first), ("last", last)):
        if value is None:
            continue
        if value > MAX_PAGE:
            _error(
                cost,
                "EXCESSIVE_PAGINATION",
                path,
                location,
                f"Requesting {value} records on the `{name}` connection exceeds the "
                f"`{argument}` limit of {MAX_PAGE} records.",
            )
        elif value < 1:
            _error(
                cost,
                "INVALID_PAGINATION",
                path,
                location,
                f"`{argument}` on the `{name}` connection cannot be less than 1.",
            )
    return max(min(first or 0, MAX_PAGE), min(last or 0, MAX_PAGE))


def _error(
    cost: QueryCost, kind: str, path: list[str], location: dict[str, int] | None, message: str
) -> None:
    error: dict[str, Any] = {"type": kind, "path": path, "message": message}
    if location:
        error["locations"] = [location]
    cost.errors.append(error)
