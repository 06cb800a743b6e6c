"""Answers shared by the GraphQL and REST handlers."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web


def bearer_token(request: web.Request) -> str | None:
    """The token of an `Authorization: bearer|token X` header."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() in ("bearer", "token") else None


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer with GitHub's request id header."""
    merged = {"x-github-request-id": uuid.uuid4().hex[:20].upper(), **(headers or {})}
    return web.json_response(body, status=status, headers=merged)


def unauthorized() -> web.Response:
    return json_response(
        {
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/graphql",
            "status": "401",
        },
        status=401,
    )
