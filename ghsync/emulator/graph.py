"""Serving GraphQL over the world: GitHub's real schema, graphql-core, one generic resolver.

The resolver serves dict objects as they are, turns lists into connections where the schema has
them, and knows the few fields that need logic (lookups, filters, orderings, rollups). A field
the emulator does not model fails loudly instead of answering null.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    build_schema,
    execute,
    get_named_type,
    is_non_null_type,
    parse,
    validate,
)

from ghsync.emulator.connections import CursorError, Obj, connection, ordered, positional
from ghsync.emulator.world import World


class GitHubError(Exception):
    """An error GitHub reports in `errors[]` with a `type` (NOT_FOUND, FORBIDDEN, ...)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class RequestContext:
    """What resolvers may know about the request being served."""

    world: World
    viewer: Obj
    rate_limit: Obj
    denied_repos: dict[str, str]
    dry_run: bool = False
    reach: str | None = None
    """The only owner whose repositories the token sees (an app installation's account);
    None: every one (a user's token, in this emulator)."""
    nodes_returned: int = 0
    connections: int = 0
    """Connections resolved so far, in execution order (counted from 1)."""
    exhausted: set[int] = field(default_factory=set)
    """Which of them run out of resources: they answer null with RESOURCE_LIMITS_EXCEEDED."""


@cache
def github_schema() -> GraphQLSchema:
    """GitHub's public schema (vendored, MIT), built once per process."""
    sdl = resources.files("ghsync.emulator").joinpath("schema.graphql").read_text("utf-8")
    # GitHub's SDL breaks graphql-core's rules on deprecated interface fields: trust it, or
    # validate() re-checks the schema and refuses every query.
    return build_schema(sdl, assume_valid_sdl=True, assume_valid=True)


_documents: dict[str, DocumentNode | list[GraphQLError]] = {}


def parse_and_validate(query: str) -> DocumentNode | list[GraphQLError]:
    """The parsed document, or its syntax/validation errors; cached per query text."""
    if query not in _documents:
        if len(_documents) > 512:
            _documents.clear()
        try:
            document = parse(query)
        except GraphQLError as error:
            _documents[query] = [error]
        else:
            errors = validate(github_schema(), document)
            _documents[query] = errors or document
    return _documents[query]


def run(
    document: DocumentNode,
    variables: dict[str, Any],
    operation_name: str | None,
    context: RequestContext,
) -> ExecutionResult:
    """Execute a validated document against the world."""
    result = execute(
        github_schema(),
        document,
        variable_values=variables,
        operation_name=operation_name,
        context_value=context,
        field_resolver=resolve_field,
    )
    assert isinstance(result, ExecutionResult)
    return result


def format_error(error: GraphQLError) -> dict[str, Any]:
    """GitHub's error shape: `type` at the top level for typed errors."""
    formatted: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if isinstance(original, GitHubError):
        formatted = {"type": original.kind, **formatted}
    return formatted


# --- resolvers --------------------------------------------------------------------------------

DENIAL_MESSAGES = {
    "FORBIDDEN": "Resource not accessible by integration",
    "INSUFFICIENT_SCOPES": "Your token has not been granted the required scopes to execute this "
    "query. The 'repository' field requires one of the following scopes: ['repo'], but your "
    "token has only been granted the: ['read:org'] scopes. Please modify your token's scopes at: "
    "https://github.com/settings/tokens.",
}
RESOURCE_LIMITS_TYPE = "RESOURCE_LIMITS_EXCEEDED"
RESOURCE_LIMITS_MESSAGE = "Resource limits for this query exceeded."
"""GitHub's docs name no type for it; public threads quote this type and message, with the
`path` of the field GitHub gave up on and that field null (or its nearest nullable parent)."""
Resolver = Callable[..., Any]
Info = GraphQLResolveInfo[RequestContext]
PAGING = {"first", "last", "after", "before"}


def resolve_field(source: Any, info: Info, **args: Any) -> Any:
    """The one field resolver: special cases first, then the dict's value (as a connection)."""
    special = SPECIAL.get((info.parent_type.name, info.field_name))
    if special is not None:
        return special(source, info, **args)
    if not isinstance(source, dict):
        return None
    name = info.field_name
    if name not in source:
        if is_non_null_type(info.return_type):
            raise GitHubError(
                "EMULATOR_UNSUPPORTED",
                f"ghsync emulator: {info.parent_type.name}.{name} is not modelled",
            )
        return None
    value = source[name]
    if isinstance(value, list) and get_named_type(info.return_type).name.endswith("Connection"):
        _reject_unmodelled(info, set())
        items, keys = positional(value)
        return _page(info.context, items, keys, args)
    return value


def _reject_unmodelled(info: Info, allowed: set[str]) -> None:
    """Fail on arguments the query sets explicitly that the emulator would silently ignore."""
    explicit = {arg.name.value for node in info.field_nodes for arg in node.arguments or ()}
    extra = explicit - PAGING - allowed
    if extra:
        raise GitHubError(
            "EMULATOR_UNSUPPORTED",
            f"ghsync emulator: argument(s) {sorted(extra)} of "
            f"{info.parent_type.name}.{info.field_name} are not modelled",
        )


def _page(
    context: RequestContext,
    items: list[Obj],
    keys: list[Any],
    args: dict[str, Any],
    descending: bool = False,
) -> Obj:
    context.connections += 1
    if context.connections in context.exhausted:
        raise GitHubError(RESOURCE_LIMITS_TYPE, RESOURCE_LIMITS_MESSAGE)
    try:
        result = connection(items, keys, args, descending=descending)
    except (CursorError, TypeError) as error:
        raise GitHubError("INVALID_CURSOR_ARGUMENTS", str(error)) from error
    context.nodes_returned += len(result["nodes"])
    return result


def _repository(_: Any, info: Info, owner: str, name: str, **__: Any) -> Obj | None:
    if info.context.dry_run:
        return None
    repo = info.context.world.find_repo(owner, name)
    denial = info.context.denied_repos.get(f"{owner}/{name}".lower())
    if repo is None or denial == "NOT_FOUND" or not _reachable(info.context, repo):
        raise GitHubError(
            "NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'."
        )
    if denial is not None:
        raise GitHubError(denial, DENIAL_MESSAGES[denial])
    return repo


def _reachable(context: RequestContext, obj: Obj) -> bool:
    """Whether the token may see `obj`: an installation token sees only its account's
    repositories and what is in them (GitHub answers the rest as if it did not exist)."""
    if context.reach is None:
        return True
    repo = _repository_of(obj)
    return repo is None or repo["nameWithOwner"].split("/")[0].lower() == context.reach.lower()


def _repository_of(obj: Obj) -> Obj | None:
    """The repository an object belongs to, when it says (a PR, a commit, a check suite or run)."""
    if obj["__typename"] == "Repository":
        return obj
    for link in ("repository", "commit", "checkSuite"):
        if isinstance(obj.get(link), dict):
            return _repository_of(obj[link])
    return None


def _organization(_: Any, info: Info, login: str) -> Obj | None:
    if info.context.dry_run:
        return None
    org = info.context.world.orgs.get(login.lower())
    if org is None:
        raise GitHubError(
            "NOT_FOUND", f"Could not resolve to an Organization with the login of '{login}'."
        )
    return org


def _user(_: Any, info: Info, login: str) -> Obj | None:
    user = info.context.world.users.get(login)
    if user is None or user["__typename"] != "User":
        raise GitHubError("NOT_FOUND", f"Could not resolve to a User with the login of '{login}'.")
    return user


def _node(_: Any, info: Info, id: str) -> Obj | None:
    if info.context.dry_run:
        return None
    found = info.context.world.nodes.get(id)
    if found is None or not _reachable(info.context, found):
        raise GitHubError("NOT_FOUND", f"Could not resolve to a node with the global id of '{id}'")
    return found


def _nodes(_: Any, info: Info, ids: list[str]) -> list[Obj | None]:
    if info.context.dry_run:
        return []
    nodes = info.context.world.nodes
    missing = [i for i in ids if i not in nodes or not _reachable(info.context, nodes[i])]
    if missing:
        raise GitHubError(
            "NOT_FOUND", f"Could not resolve to a node with the global id of '{missing[0]}'"
        )
    return [info.context.world.nodes[i] for i in ids]


def _pull_requests(repo: Obj, info: Info, **args: Any) -> Obj:
    _reject_unmodelled(info, {"states", "labels", "baseRefName", "headRefName", "orderBy"})
    states = tuple(sorted(args.pop("states", None) or ()))
    labels = tuple(sorted(args.pop("labels", None) or ()))
    base, head = args.pop("baseRefName", None), args.pop("headRefName", None)
    order = args.pop("orderBy", None) or {"field": "CREATED_AT", "direction": "ASC"}
    field_name = {"CREATED_AT": "createdAt", "UPDATED_AT": "updatedAt"}.get(order["field"])
    if field_name is None:
        raise GitHubError("EMULATOR_UNSUPPORTED", f"ghsync emulator: orderBy {order['field']}")
    cache_key = (repo["id"], states, labels, base, head, field_name)
    entry = info.context.world.sorted_cache.get(cache_key)
    if entry is None or entry[0] != repo["_version"]:
        chosen = [
            pr
            for pr in repo["pullRequests"]
            if (not states or pr["state"] in states)
            and (not labels or {label["name"] for label in pr["labels"]} & set(labels))
            and (base is None or pr["baseRefName"] == base)
            and (head is None or pr["headRefName"] == head)
        ]
        entry = (repo["_version"], *ordered(chosen, lambda pr: pr[field_name]))
        info.context.world.sorted_cache[cache_key] = entry
    _, items, keys = entry
    return _page(info.context, items, keys, args, descending=order["direction"] == "DESC")


def _pull_request(repo: Obj, info: Info, number: int) -> Obj | None:
    found: list[Obj] = [pr for pr in repo["pullRequests"] if pr["number"] == number]
    if not found:
        raise GitHubError(
            "NOT_FOUND",
            f"Could not resolve to a PullRequest with the number of {number}.",
        )
    return found[0]


def _repositories(owner: Obj, info: Info, **args: Any) -> Obj:
    _reject_unmodelled(info, {"isArchived", "isFork", "orderBy"})
    archived, fork = args.pop("isArchived", None), args.pop("isFork", None)
    order = args.pop("orderBy", None) or {"field": "NAME", "direction": "ASC"}
    field_name = {
        "NAME": "name",
        "CREATED_AT": "createdAt",
        "UPDATED_AT": "updatedAt",
        "PUSHED_AT": "pushedAt",
    }.get(order["field"], "name")
    chosen = [
        repo
        for repo in owner.get("repositories", [])
        if (archived is None or repo["isArchived"] == archived)
        and (fork is None or repo["isFork"] == fork)
    ]
    items, keys = ordered(chosen, lambda repo: repo[field_name])
    return _page(info.context, items, keys, args, descending=order["direction"] == "DESC")


def _check_runs(suite: Obj, info: Info, **args: Any) -> Obj:
    """CheckSuite.checkRuns: latest run per name unless `filterBy: {checkType: ALL}`."""
    _reject_unmodelled(info, {"filterBy"})
    filter_by = args.pop("filterBy", None) or {}
    runs: list[Obj] = suite["checkRuns"]
    if filter_by.get("checkType", "LATEST") == "LATEST":
        latest = {run["name"]: run for run in runs}
        runs = [run for run in runs if latest[run["name"]] is run]
    if filter_by.get("checkName"):
        runs = [run for run in runs if run["name"] == filter_by["checkName"]]
    if filter_by.get("conclusions"):
        runs = [run for run in runs if run["conclusion"] in filter_by["conclusions"]]
    items, keys = positional(runs)
    return _page(info.context, items, keys, args)


def _status_check_rollup(commit: Obj, info: Info) -> Obj | None:
    runs = [run for suite in commit["checkSuites"] for run in suite["checkRuns"]]
    latest = list({run["name"]: run for run in runs}.values())
    contexts = latest + (commit["status"]["contexts"] if commit["status"] else [])
    if not contexts:
        return None
    outcomes = {
        run["conclusion"] if run["__typename"] == "CheckRun" else run["state"] for run in contexts
    }
    state = (
        "FAILURE"
        if outcomes & {"FAILURE", "ERROR", "TIMED_OUT", "CANCELLED"}
        else "PENDING"
        if None in outcomes or "PENDING" in outcomes
        else "SUCCESS"
    )
    return {
        "__typename": "StatusCheckRollup",
        "id": f"SCR_{commit['oid']}",
        "state": state,
        "commit": commit,
        "contexts": contexts,
    }


SPECIAL: dict[tuple[str, str], Resolver] = {
    ("Query", "repository"): _repository,
    ("Query", "organization"): _organization,
    ("Query", "user"): _user,
    ("Query", "node"): _node,
    ("Query", "nodes"): _nodes,
    ("Query", "viewer"): lambda _, info: info.context.viewer,
    ("Query", "rateLimit"): lambda _, info, **__: info.context.rate_limit,
    ("Repository", "pullRequests"): _pull_requests,
    ("Repository", "pullRequest"): _pull_request,
    ("Organization", "repositories"): _repositories,
    ("User", "repositories"): _repositories,
    ("CheckSuite", "checkRuns"): _check_runs,
    ("Commit", "statusCheckRollup"): _status_check_rollup,
}
