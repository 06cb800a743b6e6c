"""The emulator's HTTP surface: GraphQL, the REST endpoints ghsync uses, and admin endpoints.

Order of checks per GraphQL request, as GitHub answers: credentials (401), injected faults
(dropped connection, secondary storm), concurrent requests per account (secondary 403/429),
syntax and schema validation, pagination rules, primary budget (200 + RATE_LIMITED), points per
minute per account (secondary), then the charge, random 5xx and heavy-query timeouts (502, both
still cost points, as on GitHub), execution (partial over the resource limit) and latency.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from typing import Any

from aiohttp import web
from graphql import DocumentNode, ExecutionResult, FragmentDefinitionNode, get_operation_ast

from ghsync.emulator import graph
from ghsync.emulator.activity import ActivityError, apply_activity
from ghsync.emulator.cost import QueryCost, analyse
from ghsync.emulator.gate import add_gate_routes
from ghsync.emulator.limits import SECONDARY_DOCS, SECONDARY_MESSAGE, Budget
from ghsync.emulator.responses import bearer_token, json_response, unauthorized
from ghsync.emulator.rest import add_rest_routes
from ghsync.emulator.state import STATE, EmulatorState
from ghsync.emulator.truth import repository_truth, summary
from ghsync.emulator.webhooks import Delivery, activity_events, snapshot
from ghsync.emulator.world import iso_epoch

TIMEOUT_JSON = {
    "data": None,
    "errors": [
        {
            "message": "Something went wrong while executing your query. This may be the "
            "result of a timeout, or it could be a GitHub bug. Please include `{id}` when "
            "reporting this issue."
        }
    ],
}
TIMEOUT_HTML = (
    "<!DOCTYPE html><html><head><title>Unicorn! · GitHub</title></head><body>"
    "<p>We couldn't respond to your request in time. Sorry about that. Please try resubmitting "
    "your request and contact us if the problem persists.</p></body></html>"
)


def secondary_limited(state: EmulatorState, budget: Budget) -> web.Response:
    """403 or 429 with retry-after and GitHub's message (which status: seeded coin)."""
    state.stats["secondary"] += 1
    request_id = uuid.uuid4().hex[:20].upper()
    headers = {**budget.headers("graphql"), "retry-after": str(state.faults.secondary_retry_after)}
    body = {
        "documentation_url": SECONDARY_DOCS,
        "message": SECONDARY_MESSAGE.format(request_id=request_id),
    }
    return json_response(body, status=state.rng.choice([403, 429]), headers=headers)


async def handle_graphql(request: web.Request) -> web.StreamResponse:
    state: EmulatorState = request.app[STATE]
    state.stats["requests"] += 1
    state.stats["graphql_requests"] += 1
    token = bearer_token(request)
    if not state.limits.is_authorised(token, state.faults):
        state.stats["unauthorized"] += 1
        return unauthorized()
    assert token is not None
    if state.gate is not None:  # tests: held until the gate's other tokens have asked
        await state.gate.admit(state.limits.labels[token])
    account = state.limits.accounts[token]
    faults = state.faults
    if faults.drop_rate and state.rng.random() < faults.drop_rate:
        state.stats["dropped"] += 1
        assert request.transport is not None
        request.transport.abort()
        return web.Response(status=500)
    budget = state.limits.budget(token)
    if faults.secondary_rate and state.rng.random() < faults.secondary_rate:
        return secondary_limited(state, budget)
    if state.limits.inflight[account] >= state.config.max_concurrent_per_account:
        return secondary_limited(state, budget)
    state.limits.inflight[account] += 1
    # the most requests answered at once, every account together: the slots a client used
    in_flight = sum(state.limits.inflight.values())
    state.stats["peak_in_flight"] = max(state.stats["peak_in_flight"], in_flight)
    started = time.perf_counter()
    try:
        return await _answer_graphql(request, state, token, account)
    finally:
        state.limits.inflight[account] -= 1
        # how long GitHub took to answer, execution and latency: the ideal client's wait
        state.stats["served_ms"] += round(1000 * (time.perf_counter() - started))


async def _answer_graphql(
    request: web.Request, state: EmulatorState, token: str, account: str
) -> web.StreamResponse:
    budget = state.limits.budget(token)
    try:
        payload = await request.json()
        query, variables = payload["query"], payload.get("variables") or {}
        operation_name = payload.get("operationName")
    except (ValueError, KeyError, TypeError):
        return json_response({"message": "Problems parsing JSON"}, 400, budget.headers("graphql"))
    document = graph.parse_and_validate(query)
    if isinstance(document, list):
        errors = [graph.format_error(error) for error in document]
        return json_response({"errors": errors}, headers=budget.headers("graphql"))
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return json_response(
            {"errors": [{"message": f"No operation named {operation_name!r}"}]},
            headers=budget.headers("graphql"),
        )
    state.stats[f"op:{operation.name.value if operation.name else 'anonymous'}"] += 1
    cost = analyse(graph.github_schema(), operation, fragments_of(document), variables)
    if cost.errors:
        return json_response({"errors": cost.errors}, headers=budget.headers("graphql"))
    points = 0 if cost.dry_run else cost.points
    if points > budget.remaining:
        state.stats["rate_limited"] += 1
        return json_response(
            {
                "errors": [
                    {
                        "type": "RATE_LIMITED",
                        "message": f"API rate limit exceeded for {_holder(state, token)}.",
                    }
                ]
            },
            headers=budget.headers("graphql"),
        )
    if (
        state.limits.points_last_minute(account) + points
        > state.config.points_per_minute_per_account
    ):
        return secondary_limited(state, budget)
    state.limits.charge(token, points)
    state.points[token] += points
    faults = state.faults
    if faults.error_rate and state.rng.random() < faults.error_rate:
        status = state.rng.choice([500, 502, 503])
        state.stats[f"http_{status}"] += 1
        return json_response({"message": "Server Error"}, status, budget.headers("graphql"))
    if (
        faults.timeout_node_threshold is not None
        and cost.node_count > faults.timeout_node_threshold
    ):
        return _timeout(state, budget)
    limit = faults.resource_limit_node_threshold
    limited = limit is not None and cost.node_count > limit
    return await _execute(state, document, variables, operation_name, cost, token, budget, limited)


async def _execute(
    state: EmulatorState,
    document: DocumentNode,
    variables: dict[str, Any],
    operation_name: str | None,
    cost: QueryCost,
    token: str,
    budget: Budget,
    limited: bool,
) -> web.Response:
    rate_limit = {
        "cost": cost.points,
        "limit": budget.limit,
        "remaining": budget.remaining,
        "used": budget.used,
        "resetAt": iso_epoch(budget.reset_at),
        "nodeCount": cost.node_count,
    }
    viewer = _viewer(state, token)
    denied = {repo.lower(): kind for repo, kind in state.faults.denied_repos.items()}
    reach = state.limits.reach.get(token)
    context = graph.RequestContext(
        state.world, viewer, rate_limit, denied, dry_run=cost.dry_run, reach=reach
    )
    result = graph.run(document, variables, operation_name, context)
    if limited:
        context, result = _out_of_resources(state, document, variables, operation_name, context)
    body: dict[str, Any] = {"data": result.data}
    errors = [graph.format_error(error) for error in result.errors or ()]
    if limited and not context.connections:  # nothing to give up on: the error alone says so
        errors.append(
            {"type": graph.RESOURCE_LIMITS_TYPE, "message": graph.RESOURCE_LIMITS_MESSAGE}
        )
    if errors:
        body["errors"] = errors
    delay = state.faults.latency_ms + state.faults.latency_per_node_ms * context.nodes_returned
    if delay:
        state.stats["latency_ms"] += round(delay)
        await asyncio.sleep(delay / 1000)
    state.stats["resource_limited" if limited else "ok"] += 1
    return json_response(body, headers=budget.headers("graphql"))


def _out_of_resources(
    state: EmulatorState,
    document: DocumentNode,
    variables: dict[str, Any],
    operation_name: str | None,
    whole: graph.RequestContext,
) -> tuple[graph.RequestContext, ExecutionResult]:
    """The query again, as GitHub answers one over its resource limits: mostly fine, but up to
    three of its connections (a seeded choice, never the first) null with an error each; a
    non-null one nulls its parent (a whole PR of a page, a whole item of a batch)."""
    later = range(2, whole.connections + 1)
    exhausted = set(state.rng.sample(later, min(3, len(later)))) if later else {1}
    partial = dataclasses.replace(whole, nodes_returned=0, connections=0, exhausted=exhausted)
    return partial, graph.run(document, variables, operation_name, partial)


def _timeout(state: EmulatorState, budget: Budget) -> web.Response:
    state.stats["timeouts"] += 1
    style = state.faults.timeout_body
    if style == "mixed":
        style = "json" if state.stats["timeouts"] % 2 else "html"
    if style == "html":
        return web.Response(
            text=TIMEOUT_HTML,
            status=502,
            content_type="text/html",
            headers=budget.headers("graphql"),
        )
    body = json.loads(json.dumps(TIMEOUT_JSON).replace("{id}", uuid.uuid4().hex[:16]))
    return json_response(body, status=502, headers=budget.headers("graphql"))


def _viewer(state: EmulatorState, token: str) -> dict[str, Any]:
    """The token's user, or its installation's bot."""
    login = state.limits.viewer_login(token)
    return state.world.actor(login, bot=login.endswith("[bot]"))


def _holder(state: EmulatorState, token: str) -> str:
    """Whose budget ran out, as GitHub names it: `user ID 12` or `installation ID 34`."""
    account = state.limits.accounts[token]
    if account.startswith("installation-"):
        return f"installation ID {account.removeprefix('installation-')}"
    return f"user ID {_viewer(state, token)['databaseId']}"


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


# --- admin ------------------------------------------------------------------------------------


async def handle_stats(request: web.Request) -> web.Response:
    state: EmulatorState = request.app[STATE]
    if request.method == "DELETE":
        state.stats.clear()
        state.points.clear()
    return json_response(state.stats_snapshot())


async def handle_faults(request: web.Request) -> web.Response:
    state: EmulatorState = request.app[STATE]
    if request.method == "POST":
        try:
            state.faults = state.faults.merged(await request.json())
        except (ValueError, TypeError) as error:
            return json_response({"message": str(error)}, 422)
    return json_response({k: v for k, v in vars(state.faults).items() if k != "revoke_after"})


async def handle_token(request: web.Request) -> web.Response:
    """POST {"token_index": 1, "remaining": 0, "reset_in": 2} sets the budget of the token's
    account."""
    state: EmulatorState = request.app[STATE]
    payload = await request.json()
    tokens = list(state.limits.accounts)
    index = int(payload["token_index"])
    if not 1 <= index <= len(tokens):
        return json_response({"message": f"no token-{index}"}, 404)
    budget = state.limits.set_budget(
        tokens[index - 1], payload.get("remaining"), payload.get("reset_in")
    )
    return json_response({"remaining": budget.remaining, "reset_at": budget.reset_at})


def apply_and_prepare(
    state: EmulatorState, action: str, repo_name: str, number: int | None
) -> tuple[dict[str, Any], list[Delivery]]:
    """Apply an activity and prepare the webhook deliveries it causes (not yet sent: no await
    between the change and its payloads, so concurrent activities never mix)."""
    owner, _, name = repo_name.partition("/")
    repo = state.world.find_repo(owner, name)
    found = [p for p in repo["pullRequests"] if p["number"] == number] if repo else []
    before = snapshot(found[0] if found and action != "open" else None)
    pr = apply_activity(state.world, state.activity_rng, action, repo_name, number)
    repo = pr["repository"]
    events = activity_events(action, repo, pr, before, fork_heads=state.config.webhook_fork_heads)
    deliveries = state.webhooks.prepare(events, repo["owner"]["databaseId"])
    answer = {"number": pr["number"], "updatedAt": pr["updatedAt"], "state": pr["state"]}
    return answer, deliveries


async def handle_activity(request: web.Request) -> web.Response:
    """POST {"repo": "o/n", "action": "touch", "number": 3} changes a pull request and sends
    the webhook deliveries it causes (awaited: the answer lists them with their statuses)."""
    state: EmulatorState = request.app[STATE]
    payload = await request.json()
    try:
        answer, deliveries = apply_and_prepare(
            state, payload.get("action", ""), payload.get("repo", ""), payload.get("number")
        )
    except ActivityError as error:
        return json_response({"message": str(error)}, 422)
    await state.webhooks.send(deliveries)
    return json_response({**answer, "deliveries": [d.summary() for d in deliveries]})


async def handle_redeliver(request: web.Request) -> web.Response:
    """POST {"id": "<guid>"}: send a stored delivery again, same GUID and body (GitHub's
    Redeliver button)."""
    state: EmulatorState = request.app[STATE]
    payload = await request.json()
    delivery = state.webhooks.sent.get(str(payload.get("id")))
    if delivery is None:
        return json_response({"message": "Not Found"}, 404)
    await state.webhooks.send([delivery])
    return json_response({"id": delivery.id, "event": delivery.event, "status": delivery.status})


async def handle_deliveries(request: web.Request) -> web.Response:
    state: EmulatorState = request.app[STATE]
    return json_response([d.summary() for d in state.webhooks.sent.values()])


async def handle_truth(request: web.Request) -> web.Response:
    state: EmulatorState = request.app[STATE]
    truth = repository_truth(state.world, request.match_info["owner"], request.match_info["name"])
    if truth is None:
        return json_response({"message": "Not Found"}, 404)
    return json_response(truth)


async def handle_summary(request: web.Request) -> web.Response:
    state: EmulatorState = request.app[STATE]
    return json_response(summary(state.world))


def build_app(state: EmulatorState) -> web.Application:
    """The aiohttp application; GHES paths (`/api/graphql`, `/api/v3/...`) included."""
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[STATE] = state
    app.router.add_post("/graphql", handle_graphql)
    app.router.add_post("/api/graphql", handle_graphql)
    add_rest_routes(app, prefixes=("", "/api/v3"))
    app.router.add_route("*", "/_emulator/stats", handle_stats)
    app.router.add_route("*", "/_emulator/faults", handle_faults)
    app.router.add_post("/_emulator/token", handle_token)
    app.router.add_post("/_emulator/activity", handle_activity)
    app.router.add_post("/_emulator/redeliver", handle_redeliver)
    app.router.add_get("/_emulator/deliveries", handle_deliveries)
    app.router.add_get("/_emulator/truth/{owner}/{name}", handle_truth)
    app.router.add_get("/_emulator/summary", handle_summary)
    add_gate_routes(app)
    return app
