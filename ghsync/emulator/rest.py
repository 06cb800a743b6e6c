"""The REST endpoints ghsync uses: `/rate_limit`, a commit's check runs (with `Link` paging),
and a GitHub App's: `/app`, `/app/installations`, minting installation tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web

from ghsync.emulator.apps import AppConfig, JwtRefused
from ghsync.emulator.responses import bearer_token, json_response, unauthorized
from ghsync.emulator.state import STATE, EmulatorState
from ghsync.emulator.world import iso_epoch

APP_DOCS = "https://docs.github.com/rest/apps/apps"


def add_rest_routes(app: web.Application, prefixes: Iterable[str]) -> None:
    """Mount the REST routes under each prefix (`""` for github.com, `/api/v3` for GHES)."""
    for prefix in prefixes:
        app.router.add_get(f"{prefix}/rate_limit", handle_rate_limit)
        app.router.add_get(
            f"{prefix}/repos/{{owner}}/{{name}}/commits/{{ref}}/check-runs", handle_check_runs
        )
        app.router.add_get(f"{prefix}/app", handle_app)
        app.router.add_get(f"{prefix}/app/installations", handle_installations)
        app.router.add_post(f"{prefix}/app/installations/{{id}}/access_tokens", handle_access_token)


def _authorised_token(request: web.Request) -> str | None:
    state = request.app[STATE]
    state.stats["requests"] += 1
    state.stats["rest_requests"] += 1
    token = bearer_token(request)
    return token if state.limits.is_authorised(token, state.faults) else None


async def handle_rate_limit(request: web.Request) -> web.Response:
    """GET /rate_limit: free, like GitHub's; both resources of the token."""
    state = request.app[STATE]
    token = _authorised_token(request)
    if token is None:
        return unauthorized()
    resources = {}
    for resource in ("core", "graphql"):
        budget = state.limits.budget(token, resource)
        resources[resource] = {
            "limit": budget.limit,
            "used": budget.used,
            "remaining": budget.remaining,
            "reset": int(budget.reset_at),
            "resource": resource,
        }
    core = state.limits.budget(token, "core")
    return json_response(
        {"resources": resources, "rate": resources["core"]}, headers=core.headers("core")
    )


def _run_json(run: dict[str, Any], head_sha: str) -> dict[str, Any]:
    suite, app = run["checkSuite"], run["checkSuite"]["app"]
    return {
        "id": run["databaseId"],
        "node_id": run["id"],
        "head_sha": head_sha,
        "name": run["name"],
        "status": run["status"].lower(),
        "conclusion": run["conclusion"].lower() if run["conclusion"] else None,
        "started_at": run["startedAt"],
        "completed_at": run["completedAt"],
        "details_url": run["detailsUrl"],
        "check_suite": {"id": suite["databaseId"]},
        "app": {"id": app["databaseId"], "slug": app["slug"], "name": app["name"]},
    }


async def handle_check_runs(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/commits/{ref}/check-runs?per_page=&page=&filter=latest|all."""
    state = request.app[STATE]
    token = _authorised_token(request)
    if token is None:
        return unauthorized()
    budget = state.limits.budget(token, "core")
    headers = budget.headers("core")
    if budget.remaining < 1:
        return json_response(
            {
                "message": "API rate limit exceeded for user.",
                "documentation_url": "https://docs.github.com/rest",
            },
            403,
            headers,
        )
    budget.used += 1
    headers = budget.headers("core")
    repo = state.world.find_repo(request.match_info["owner"], request.match_info["name"])
    commit = state.world.commits.get(request.match_info["ref"])
    reach = state.limits.reach.get(token)
    if repo is None or (reach and reach.lower() != request.match_info["owner"].lower()):
        return json_response({"message": "Not Found"}, 404, headers)
    if commit is None or commit["repository"] is not repo:
        return json_response(
            {"message": f"No commit found for SHA: {request.match_info['ref']}"}, 422, headers
        )
    try:
        per_page = min(max(int(request.query.get("per_page", 30)), 1), 100)
        page = max(int(request.query.get("page", 1)), 1)
    except ValueError:
        return json_response({"message": "Invalid request."}, 422, headers)
    runs = [run for suite in commit["checkSuites"] for run in suite["checkRuns"]]
    if request.query.get("filter", "latest") == "latest":
        latest = {(run["checkSuite"]["id"], run["name"]): run for run in runs}
        runs = [run for run in runs if latest[(run["checkSuite"]["id"], run["name"])] is run]
    chunk = runs[(page - 1) * per_page : page * per_page]
    last = max((len(runs) + per_page - 1) // per_page, 1)
    links = []
    for rel, target in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
        if (rel in ("prev", "first") and page > 1) or (rel in ("next", "last") and page < last):
            query = {**request.query, "per_page": str(per_page), "page": str(target)}
            links.append(f'<{request.url.with_query(query)}>; rel="{rel}"')
    if links:
        headers["Link"] = ", ".join(links)
    body = {"total_count": len(runs), "check_runs": [_run_json(r, commit["oid"]) for r in chunk]}
    return json_response(body, headers=headers)


def _app_of(request: web.Request) -> AppConfig | web.Response:
    """The app whose JWT authenticates the request, or GitHub's 401 saying what is wrong."""
    state: EmulatorState = request.app[STATE]
    state.stats["requests"] += 1
    state.stats["app_requests"] += 1
    try:
        return state.apps.authenticate(bearer_token(request), state.clock())
    except JwtRefused as refused:
        state.stats["jwt_refused"] += 1
        return json_response({"message": str(refused), "documentation_url": APP_DOCS}, 401)


async def handle_app(request: web.Request) -> web.Response:
    """GET /app: the authenticated app."""
    app = _app_of(request)
    if isinstance(app, web.Response):
        return app
    return json_response(
        {"id": app.id, "slug": app.slug, "client_id": app.client_id, "name": app.slug}
    )


async def handle_installations(request: web.Request) -> web.Response:
    """GET /app/installations: the app's installations (one page: the emulator has few)."""
    app = _app_of(request)
    if isinstance(app, web.Response):
        return app
    state: EmulatorState = request.app[STATE]
    body = [
        {
            "id": installation.id,
            "app_id": app.id,
            "app_slug": app.slug,
            "account": {"login": installation.account, "type": "Organization"},
            "target_type": "Organization",
            "repository_selection": "all",
        }
        for installation in state.apps.installations(app)
    ]
    return json_response(body)


async def handle_access_token(request: web.Request) -> web.Response:
    """POST /app/installations/{id}/access_tokens: 201 and a new installation token."""
    app = _app_of(request)
    if isinstance(app, web.Response):
        return app
    state: EmulatorState = request.app[STATE]
    try:
        installation_id = int(request.match_info["id"])
    except ValueError:
        installation_id = -1
    minted = state.apps.mint(app, installation_id, state.clock())
    if minted is None:
        return json_response({"message": "Not Found", "documentation_url": APP_DOCS}, 404)
    state.limits.add_installation_token(minted)
    state.stats["installation_tokens"] += 1
    body = {
        "token": minted.token,
        "expires_at": iso_epoch(minted.expires_at),
        "permissions": {
            "checks": "read",
            "contents": "read",
            "metadata": "read",
            "pull_requests": "read",
            "statuses": "read",
        },
        "repository_selection": "all",
    }
    return json_response(body, 201)
