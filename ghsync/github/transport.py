"""One POST of a GraphQL request, and what came back as data.

gql's request carries the document and its variables (`PrintedRequest`: its body's query text
printed once per document, not once per request); aiohttp sends it over the one session a
`Transport` opens, so connections are pooled. Unlike gql's transports this one keeps what
GitHub's rules need (gql drops the HTTP status of a GraphQL body and the message of a 403,
FACTS.md): every answer's status, headers and body, JSON or not. A timeout or a dropped
connection is a `NoReply`, not an exception. Only a connection refused before anything
answered at the URL raises ConfigError: nothing listens there, a wrong URL rather than an
outage to wait out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from gql import GraphQLRequest

from ghsync.errors import ConfigError
from ghsync.github.operations import Query

URL_HINT = "check GITHUB_GRAPHQL_URL (GitHub Enterprise Server: https://HOST/api/graphql)"
MAX_CONNECTIONS = 100
"""GitHub allows at most 100 concurrent requests per account."""


class PrintedRequest(GraphQLRequest):
    """gql's request of a `Query`, whose body's text is the query's, printed once (gql prints
    the document for every request: 45 ms for a batch of 149 items)."""

    def __init__(self, query: Query, variables: dict[str, Any]) -> None:
        super().__init__(query.document, variable_values=variables)
        self.text = query.text

    @property
    def payload(self) -> dict[str, Any]:
        """gql's payload: the query text, and the variables when there are any."""
        payload: dict[str, Any] = {"query": self.text}
        if self.variable_values:
            payload["variables"] = self.variable_values
        return payload


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: its status, headers, and body (parsed when it is JSON)."""

    status: int
    headers: Mapping[str, str]
    json: Any
    """The parsed body; None when it is not JSON (or JSON `null`)."""
    text: str

    @property
    def is_graphql(self) -> bool:
        """Whether the body is a GraphQL result: a JSON object with `data` or `errors`."""
        return isinstance(self.json, dict) and ("data" in self.json or "errors" in self.json)

    @property
    def data(self) -> dict[str, Any] | None:
        """The result's `data` (None when absent or null)."""
        data = self.json.get("data") if self.is_graphql else None
        return data if isinstance(data, dict) else None

    @property
    def errors(self) -> tuple[Mapping[str, object], ...]:
        """The result's GraphQL errors, as GitHub sent them."""
        errors = self.json.get("errors") if self.is_graphql else None
        return tuple(e for e in errors if isinstance(e, dict)) if isinstance(errors, list) else ()

    @property
    def message(self) -> str:
        """The `message` of a body that is not a GraphQL result (`{"message": "Bad
        credentials"}`, a 403's secondary limit), else ''."""
        message = self.json.get("message") if isinstance(self.json, dict) else None
        return message if isinstance(message, str) and not self.is_graphql else ""


@dataclass(frozen=True)
class NoReply:
    """No answer: the request timed out, or the connection failed or dropped."""

    timed_out: bool
    detail: str


class Transport:
    """POSTs GraphQL requests to `url` over one aiohttp session; use `async with`."""

    def __init__(self, url: str, *, timeout: float, user_agent: str = "ghsync") -> None:
        self.url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None
        self._answered = False
        """Whether anything answered at `url` yet (a refusal before is configuration)."""

    async def __aenter__(self) -> Transport:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS),
            headers={"User-Agent": self._user_agent},
            timeout=self._timeout,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, request: GraphQLRequest, headers: Mapping[str, str]) -> Reply | NoReply:
        """Send `request` with `headers` (the credential's) once."""
        if self._session is None:
            raise RuntimeError("Transport is used outside `async with`")
        try:
            async with self._session.post(self.url, json=request.payload, headers=headers) as r:
                text = await r.text(errors="replace")
                reply = Reply(r.status, dict(r.headers), _parsed(text), text)
        except (aiohttp.ClientError, OSError) as error:  # TimeoutError is an OSError
            if not self._answered and _refused(error):
                raise ConfigError(
                    f"nothing answers at {self.url} (connection refused): {URL_HINT}"
                ) from error
            timed_out = isinstance(error, asyncio.TimeoutError)
            return NoReply(timed_out, f"{type(error).__name__}: {error}")
        self._answered = True
        return reply


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _refused(error: BaseException) -> bool:
    """A connection refused: nothing listens at that address and port."""
    return isinstance(error, aiohttp.ClientConnectorError) and isinstance(
        error.os_error, ConnectionRefusedError
    )
