"""One GraphQL request done right: credential -> slot -> POST -> quota -> classify -> retry.

gql's documents and requests go out through `transport.py`, without gql's Client: the Client
would validate every query against the schema again (the tests already do, once) and turn
GraphQL errors into exceptions, while the retry rules need those errors (and the HTTP status)
as data.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, AsyncExitStack
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ghsync.errors import (
    AccessDenied,
    ConfigError,
    ConnectionFailed,
    CredentialLost,
    FatalError,
    GhsyncError,
    InsufficientScopes,
    QueryRejected,
    QueryTooHeavy,
    RepoForbidden,
    RepoNotFound,
    ResourceLimited,
    RetriableError,
    SecondaryRateLimited,
    ServerError,
    ServerTimeout,
)
from ghsync.github.credentials import AfterUnauthorized, Credential
from ghsync.github.operations import (
    Query,
    batch_results,
    batch_variables,
    mixed_query,
    operation_query,
)
from ghsync.github.ratelimit import (
    Answer,
    Kind,
    Quota,
    Verdict,
    backoff_delay,
    classify,
    parse_quota_field,
    parse_quota_headers,
)
from ghsync.github.tokens import TokenPool, TokenStatus
from ghsync.github.transport import URL_HINT, NoReply, PrintedRequest, Transport
from ghsync.log import get_logger, redacting
from ghsync.scoped import scoped

log = get_logger(__name__)

COST_LABEL: ContextVar[str] = ContextVar("ghsync_cost_label", default="")
"""What the current requests are for (a repository): their points and requests are counted
under it in `GitHubClient.points` / `.requests`. Set it in the coroutine doing the work."""

OWNER: ContextVar[str | None] = ContextVar("ghsync_owner", default=None)
"""Whose repositories the current requests read (`owner` of `owner/name`): they go only to
credentials that can read them (an app installation reads only its account's). None: any."""


def reading(owner: str) -> AbstractContextManager[None]:
    """Send the requests of the block with credentials that can read `owner`'s repositories."""
    return scoped(OWNER, owner)


SECONDARY_ALLOWANCE = 4
"""Secondary limits a request weathers: this many times `max_attempts` (each is waited out)."""

SlotFactory = Callable[[str], AbstractAsyncContextManager[object]]
"""`slot(credential_id)`: held around each request (a Prefect concurrency limit, a lock)."""

_ACCESS_ERRORS: dict[Kind, type[AccessDenied]] = {
    Kind.NOT_FOUND: RepoNotFound,
    Kind.FORBIDDEN: RepoForbidden,
    Kind.INSUFFICIENT_SCOPES: InsufficientScopes,
}
_TOO_HEAVY: dict[Kind, type[QueryTooHeavy]] = {
    Kind.TIMEOUT: ServerTimeout,
    Kind.RESOURCE_LIMITED: ResourceLimited,
}


def no_slot(credential_id: str) -> AbstractAsyncContextManager[object]:
    """The default slot: no concurrency limit."""
    return contextlib.nullcontext()


@dataclass(frozen=True)
class _Outcome:
    verdict: Verdict
    answer: Answer | None
    """None when nothing answered (a timeout, a dropped connection)."""
    data: dict[str, Any] | None = None
    quota: Quota | None = None
    sent: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The credential's headers the request carried (a 401 says which token it refused)."""
    lost: bool = False
    """The credential could not make a header at all (`CredentialLost`): drop it."""


def describe_target(variables: Mapping[str, Any]) -> str:
    """What a query is about, for error messages: `owner/name`, an organization, or a node."""
    if "owner" in variables and "name" in variables:
        return f"repository {variables['owner']}/{variables['name']}"
    if "org" in variables:
        return f"organization {variables['org']}"
    if "id" in variables:
        return f"node {variables['id']}"
    return "the query's target"


class GitHubClient:
    """Runs named operations from `queries/` with the pool's credentials; use `async with`
    (it opens the transport's session, and every log handler redacts the pool's secrets)."""

    def __init__(
        self,
        pool: TokenPool,
        graphql_url: str,
        *,
        slot: SlotFactory = no_slot,
        max_attempts: int = 5,
        request_timeout: float = 60.0,
        retry_base: float = 1.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.pool = pool
        self.graphql_url = graphql_url
        self.max_attempts = max_attempts
        self.answers: Counter[Kind] = Counter()
        """Answers seen, by kind (for logs, artifacts and tests)."""
        self.points: Counter[str] = Counter()
        """Points GitHub reported (`rateLimit.cost`), by COST_LABEL."""
        self.requests: Counter[str] = Counter()
        """Requests sent, by COST_LABEL."""
        self._slot = slot
        self._transport = Transport(graphql_url, timeout=request_timeout)
        self._retry_base = retry_base
        self._rand = rand
        self._open: AsyncExitStack | None = None

    async def __aenter__(self) -> GitHubClient:
        async with AsyncExitStack() as stack:
            stack.enter_context(redacting(self.pool.secrets))
            await stack.enter_async_context(self._transport)
            self._open = stack.pop_all()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._open is not None:
            await self._open.aclose()
            self._open = None

    async def execute(
        self, operation: str, variables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run operation `operation` and return its `data`.

        Primary limits and 401s move the request to another token (the pool waits or raises
        TokensExhausted / AllTokensInvalid); secondary limits, 5xx and dropped connections are
        retried up to `max_attempts`; a timeout or a partial answer over the resource limits
        (QueryTooHeavy) of a query with `pageSize` > 1 raises at once, so the caller asks again
        with `smaller_page_size`. A partial answer is never returned. A connection refused
        before anything answered at the URL raises ConfigError at once (nothing listens there:
        a wrong GITHUB_GRAPHQL_URL, not an outage to wait out).
        """
        variables = dict(variables or {})
        return await self._run(operation_query(operation), variables, partial=False)

    async def execute_batch(
        self, operation: str, items: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any] | None]:
        """Run a batched operation (one alias per item); None for items GitHub could not
        resolve (NOT_FOUND / FORBIDDEN), so one missing repository does not sink the batch."""
        return await self.execute_mixed([(operation, item) for item in items])

    async def execute_mixed(
        self, items: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[dict[str, Any] | None]:
        """Run items of one or more batched operations (each its operation's name and
        variables) in one request (`build_mixed`); the answers in item order, as
        `execute_batch`'s.

        A batch that times out or exceeds the resource limits is heavy as a big page is: it is
        split in halves at once, and the halves asked in turn (down to single items, which are
        retried as any query).
        """
        query = mixed_query(tuple(name for name, _ in items))
        variables = batch_variables([item for _, item in items])
        try:
            data = await self._run(query, variables, partial=True, split=len(items))
        except QueryTooHeavy as heavy:
            if len(items) < 2:
                raise
            half = len(items) // 2
            log.warning(
                "%s for %d items: GitHub %s; asking %d at a time",
                query.name,
                len(items),
                heavy.reason,
                half,
            )
            return [
                *await self.execute_mixed(items[:half]),
                *await self.execute_mixed(items[half:]),
            ]
        return batch_results(data, len(items))

    async def execute_page(
        self, operation: str, variables: Mapping[str, Any], page_size: int
    ) -> tuple[dict[str, Any], int]:
        """Run a paged operation; when it is too heavy (a timeout, a partial answer over the
        resource limits) halve `pageSize` and ask again, same cursor.

        Returns the data and the page size that worked (use it for the next pages).
        """
        while True:
            try:
                data = await self.execute(operation, {**variables, "pageSize": page_size})
                return data, page_size
            except QueryTooHeavy as heavy:
                smaller = heavy.smaller_page_size
                if smaller is None or smaller >= page_size:
                    raise
                log.warning(
                    "%s at pageSize %d: GitHub %s; retrying with %d",
                    operation,
                    page_size,
                    heavy.reason,
                    smaller,
                )
                page_size = smaller

    async def identify(self) -> None:
        """Ask `viewer { login }` once per token: learns accounts (the tokens of one account
        share its budget and secondary limits) and budgets, and drops tokens GitHub rejects."""
        query = operation_query("Viewer")
        for credential in self.pool.tokens():
            async with self._slot(credential.id):
                outcome = await self._send(credential, query, {})
            kind = await self._learn(credential, outcome)
            if kind is Kind.OK and outcome.data:
                self.pool.set_login(credential, outcome.data["viewer"]["login"])
            elif kind is not Kind.UNAUTHORIZED:
                log.warning(
                    "could not identify token %s: %s", credential.mask, outcome.verdict.message
                )

    async def _run(
        self,
        query: Query,
        variables: dict[str, Any],
        *,
        partial: bool,
        split: int = 1,
    ) -> dict[str, Any]:
        """Send until an answer is usable; `split` > 1 (a batch's items): a query too heavy
        raises at once, as for a page that can shrink."""
        operation = query.name
        failures = secondaries = 0
        while True:
            credential = await self.pool.choose(OWNER.get())
            try:
                async with self._slot(credential.id):
                    if not self.pool.is_usable(credential):
                        continue  # parked or paused while this request waited for its slot
                    outcome = await self._send(credential, query, variables)
            finally:
                self.pool.release(credential)
            kind = await self._learn(credential, outcome)
            if kind is Kind.OK or (partial and kind in _ACCESS_ERRORS and outcome.data):
                if kind is not Kind.OK:
                    log.info("%s: %s", operation, outcome.verdict.message)
                return outcome.data or {}
            if kind in (Kind.PRIMARY, Kind.UNAUTHORIZED):
                continue  # parked, dropped or renewed: another token (or the renewed one) goes
            error = self._failure(operation, variables, credential, outcome)
            if kind is Kind.SECONDARY:
                # Each one already waited out its pause (>= retry-after, growing): a storm is
                # weathered, only a limit that never lifts ends the request.
                secondaries += 1
                if secondaries >= self.max_attempts * SECONDARY_ALLOWANCE:
                    raise error
                log.info("%s: %s (secondary limit %d)", operation, error, secondaries)
                continue
            failures += 1
            shrink = isinstance(error, QueryTooHeavy) and (error.page_size or split) > 1
            if isinstance(error, FatalError) or shrink or failures >= self.max_attempts:
                raise error
            await self.pool.clock.sleep(backoff_delay(failures - 1, self._rand, self._retry_base))
            log.info("%s: %s (attempt %d of %d)", operation, error, failures, self.max_attempts)

    async def _learn(self, token: Credential, outcome: _Outcome) -> Kind:
        """Update the pool from one answer; returns the answer's kind."""
        kind = outcome.verdict.kind
        self.answers[kind] += 1
        label = COST_LABEL.get()
        self.requests[label] += 1
        cost = ((outcome.data or {}).get("rateLimit") or {}).get("cost")
        if isinstance(cost, int):
            self.points[label] += cost
        if outcome.quota is not None:
            self.pool.record_quota(token, outcome.quota)
        if kind is Kind.OK:
            self.pool.record_success(token)
        elif kind is Kind.PRIMARY:
            self.pool.park(token, outcome.quota.reset_at if outcome.quota else None)
        elif kind is Kind.SECONDARY:
            self.pool.pause(token, outcome.verdict.retry_after)
        elif kind is Kind.UNAUTHORIZED and (
            outcome.lost or await token.on_unauthorized(outcome.sent) is AfterUnauthorized.DROP
        ):
            self.pool.drop(token)
        return kind

    def _failure(
        self, operation: str, variables: Mapping[str, Any], token: Credential, outcome: _Outcome
    ) -> GhsyncError:
        """The error for a failed answer, raised at once (fatal errors; a page or batch too
        heavy that can shrink) or after the last attempt."""
        kind, message = outcome.verdict.kind, outcome.verdict.message
        errors = outcome.answer.errors if outcome.answer else ()
        if kind in _ACCESS_ERRORS:
            return _ACCESS_ERRORS[kind](describe_target(variables), message, errors)
        if kind is Kind.QUERY_ERROR:
            return QueryRejected(operation, message, errors)
        if kind is Kind.NOT_GRAPHQL:
            return ConfigError(f"{self.graphql_url} {message}: {URL_HINT}")
        if kind in _TOO_HEAVY:
            page_size = variables.get("pageSize")
            shrinkable = isinstance(page_size, int) and page_size > 1
            return _TOO_HEAVY[kind](operation, page_size if shrinkable else None, errors)
        if kind is Kind.SECONDARY:
            return SecondaryRateLimited(token.mask, outcome.verdict.retry_after)
        if outcome.answer is None:
            return ConnectionFailed(operation, self.graphql_url, message)
        return ServerError(operation, outcome.answer.status, message, errors)

    async def _send(
        self, credential: Credential, query: Query, variables: dict[str, Any]
    ) -> _Outcome:
        """POST once with `credential`; never raises for what GitHub answers (ConfigError when
        the first connection to the URL is refused)."""
        request = PrintedRequest(query, variables)
        try:
            sent = await credential.header()
        except CredentialLost as lost:  # an app installation removed: no token to send
            return _Outcome(Verdict(Kind.UNAUTHORIZED, str(lost)), None, lost=True)
        except RetriableError as error:  # minting an installation token failed for now
            return _Outcome(Verdict(Kind.CONNECTION, str(error)), None)
        reply = await self._transport.post(request, sent)
        if isinstance(reply, NoReply):
            kind = Kind.TIMEOUT if reply.timed_out else Kind.CONNECTION
            return _Outcome(Verdict(kind, reply.detail), None, sent=sent)
        data = reply.data
        answer = Answer(
            reply.status,
            reply.headers,
            reply.errors,
            data is not None,
            not reply.is_graphql,
            reply.message,
        )
        quota = parse_quota_headers(reply.headers) or parse_quota_field(
            (data or {}).get("rateLimit")
        )
        verdict = classify(answer, self.pool.clock.now())
        log.debug("%s on %s: %s", query.name, credential.mask, verdict.kind)
        return _Outcome(verdict, answer, data, quota, sent)


async def check_tokens(tokens: Sequence[Credential | str], graphql_url: str) -> list[TokenStatus]:
    """Ask GitHub about every credential once (`viewer` and its budget); statuses in order."""
    pool = TokenPool(tokens)
    async with GitHubClient(pool, graphql_url) as client:
        await client.identify()
    return pool.statuses()
