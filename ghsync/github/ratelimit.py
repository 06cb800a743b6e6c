"""Pure rules of GitHub's limits: quota headers, retry-after, backoff, and what an answer means.

No I/O and no clock of their own: callers pass `now` (epoch seconds) and a random source, so
every rule is tested with plain values. The shapes are those of shared/github/FACTS.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from ghsync.timestamps import parse_time

SECONDARY_MIN_PAUSE = 60.0
"""GitHub: without retry-after, "wait for at least one minute before retrying"."""
SECONDARY_MAX_PAUSE = 15 * 60.0

_SECONDARY_MARKERS = ("secondary rate limit", "abuse detection")
_TIMEOUT_MARKERS = ("timeout", "couldn't respond to your request in time")
_PRIMARY_TYPES = {"RATE_LIMITED", "RATE_LIMIT"}
_RESOURCE_LIMIT_TYPE = "RESOURCE_LIMIT"
"""Part of the type of a partial answer's error (RESOURCE_LIMITS_EXCEEDED as quoted in public
threads; GitHub's docs name none), so a variant of the type is recognised too."""
_RESOURCE_LIMIT_MARKER = "resource limit"


class Kind(StrEnum):
    """What an answer means for the client's next step."""

    OK = "ok"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    TIMEOUT = "timeout"
    RESOURCE_LIMITED = "resource_limited"
    """200 with partial data and a "resource limits ... exceeded" error (GitHub since 2025-09):
    the nulls in it are not data. Asked again smaller, as for a timeout."""
    SERVER_ERROR = "server_error"
    CONNECTION = "connection"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    INSUFFICIENT_SCOPES = "insufficient_scopes"
    QUERY_ERROR = "query_error"
    NOT_GRAPHQL = "not_graphql"
    """A 2xx answer that is not JSON (a web page), or a 404: the URL is not a GraphQL API."""


@dataclass(frozen=True)
class Quota:
    """A token's primary budget as one answer reported it."""

    limit: int
    remaining: int
    reset_at: float
    """Epoch seconds when the budget refills."""
    used: int | None = None


@dataclass(frozen=True)
class Answer:
    """What came back: the status, the headers, and what the body says."""

    status: int
    headers: Mapping[str, str]
    errors: Sequence[Mapping[str, Any]] = ()
    has_data: bool = False
    malformed: bool = False
    """The body is not a GraphQL result (not JSON, or JSON without `data` and `errors`)."""
    message: str = ""
    """The `message` of a body that is not a GraphQL result (a 401's, a 403's)."""


@dataclass(frozen=True)
class Verdict:
    """The classification of an answer: its kind, a token-free message, and retry-after."""

    kind: Kind
    message: str
    retry_after: float | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = _header(headers, name)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def parse_quota_headers(headers: Mapping[str, str]) -> Quota | None:
    """The `x-ratelimit-*` headers as a Quota, or None when they are missing or garbled."""
    limit = _int_header(headers, "x-ratelimit-limit")
    remaining = _int_header(headers, "x-ratelimit-remaining")
    reset = _int_header(headers, "x-ratelimit-reset")
    if limit is None or remaining is None or reset is None:
        return None
    return Quota(limit, remaining, float(reset), _int_header(headers, "x-ratelimit-used"))


def parse_quota_field(rate_limit: Mapping[str, Any] | None) -> Quota | None:
    """The `rateLimit { limit remaining resetAt used }` field of a body as a Quota."""
    if not rate_limit:
        return None
    try:
        reset = parse_time(str(rate_limit["resetAt"]))
        return Quota(
            int(rate_limit["limit"]),
            int(rate_limit["remaining"]),
            reset.timestamp(),
            int(rate_limit["used"]) if rate_limit.get("used") is not None else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from `retry-after` (delta seconds or an HTTP date), or None."""
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def backoff_delay(
    attempt: int, rand: Callable[[], float], base: float = 1.0, cap: float = 60.0
) -> float:
    """Exponential backoff with jitter: between half and all of min(cap, base * 2**attempt).

    `attempt` counts from 0; `rand` returns a float in [0, 1) (inject a fixed one in tests).
    """
    ceiling = min(cap, base * 2.0 ** max(0, attempt))
    return ceiling / 2 + rand() * ceiling / 2


def secondary_pause(retry_after: float | None, strikes: int, rand: Callable[[], float]) -> float:
    """How long an account pauses after its `strikes`-th secondary limit in a row (from 1).

    retry-after when GitHub sent it; else at least 60 s, doubling per strike, plus up to 25%
    jitter so that paused clients do not come back all at once.
    """
    if retry_after is not None:
        return retry_after
    pause = min(SECONDARY_MAX_PAUSE, SECONDARY_MIN_PAUSE * 2.0 ** max(0, strikes - 1))
    return pause * (1 + rand() / 4)


def _messages(errors: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(str(e.get("message", "")) for e in errors) or "(no message)"


def _error_types(errors: Sequence[Mapping[str, Any]]) -> set[str]:
    types = {str(e.get("type", "")) for e in errors}
    if any(e.get("code") == "graphql_rate_limit" for e in errors):
        types.add("RATE_LIMIT")
    return types


def classify(answer: Answer, now: float) -> Verdict:
    """Decide what an answer means. Order matters: a body's own type beats the status.

    Primary: RATE_LIMITED / RATE_LIMIT (whatever the status), or 403/429 with remaining 0.
    Secondary: the secondary message (any status), or a 403/429 without GraphQL errors or
    data, with retry-after or no reason.
    Resource limited: an error whose type holds RESOURCE_LIMIT or whose message says "resource
    limit" (any case), whatever else the answer holds (data, NOT_FOUND items): it is partial.
    Not GraphQL: a 404 without GraphQL errors or data (GitHub's GraphQL API answers a missing
    object with 200 and NOT_FOUND: a 404, JSON or not, says no API is at that URL), or a 2xx
    body that is not JSON (an HTML page where the API should be).
    Timeout: 502/504, or a timeout message. Server error: another 5xx, a 2xx body that is JSON
    but no GraphQL result, or "something went wrong" without data.
    """
    said = _messages(answer.errors) if answer.errors else answer.message
    return _limited(answer, said, now) or _failed(answer, said) or _rejected(answer, said)


def _limited(answer: Answer, said: str, now: float) -> Verdict | None:
    """401, or a primary or secondary limit."""
    status = answer.status
    if status == 401:
        return Verdict(Kind.UNAUTHORIZED, "401 Bad credentials")
    if _error_types(answer.errors) & _PRIMARY_TYPES:
        return Verdict(Kind.PRIMARY, said)
    retry_after = parse_retry_after(answer.headers, now)
    if any(marker in said.lower() for marker in _SECONDARY_MARKERS):
        return Verdict(Kind.SECONDARY, said, retry_after)
    if status in (403, 429) and not (answer.errors or answer.has_data):
        if retry_after is None and _int_header(answer.headers, "x-ratelimit-remaining") == 0:
            return Verdict(Kind.PRIMARY, f"HTTP {status} with x-ratelimit-remaining 0")
        return Verdict(Kind.SECONDARY, f"HTTP {status}", retry_after)
    return None


def _failed(answer: Answer, said: str) -> Verdict | None:
    """A partial answer, no GraphQL API at the URL, a timeout or a server error."""
    status, lowered = answer.status, said.lower()
    types = _error_types(answer.errors)
    if _RESOURCE_LIMIT_MARKER in lowered or any(_RESOURCE_LIMIT_TYPE in t.upper() for t in types):
        return Verdict(Kind.RESOURCE_LIMITED, said)
    if status == 404 and not (answer.errors or answer.has_data):
        return Verdict(Kind.NOT_GRAPHQL, "answered HTTP 404 (Not Found), not GraphQL")
    content_type = (_header(answer.headers, "content-type") or "no content type").split(";")[0]
    if answer.malformed and status < 300 and "json" not in content_type:
        return Verdict(Kind.NOT_GRAPHQL, f"answered {content_type}, not GraphQL")
    if status in (502, 504):
        return Verdict(Kind.TIMEOUT, f"HTTP {status}")
    if any(marker in lowered for marker in _TIMEOUT_MARKERS):
        return Verdict(Kind.TIMEOUT, said)
    if status >= 500:
        return Verdict(Kind.SERVER_ERROR, said or "no message")
    if answer.malformed and status < 300:
        return Verdict(Kind.SERVER_ERROR, f"not a GraphQL result ({content_type})")
    return None


def _rejected(answer: Answer, said: str) -> Verdict:
    """What GitHub refused (a target, the query), a failure it says went wrong, or OK."""
    types = _error_types(answer.errors)
    if answer.errors and not types - {"NOT_FOUND", "FORBIDDEN", "INSUFFICIENT_SCOPES"}:
        if "INSUFFICIENT_SCOPES" in types:
            return Verdict(Kind.INSUFFICIENT_SCOPES, said)
        return Verdict(Kind.FORBIDDEN if "FORBIDDEN" in types else Kind.NOT_FOUND, said)
    if answer.errors and not answer.has_data and "something went wrong" in said.lower():
        return Verdict(Kind.SERVER_ERROR, said)
    if answer.errors or answer.status >= 400:
        return Verdict(Kind.QUERY_ERROR, said or f"HTTP {answer.status}")
    return Verdict(Kind.OK, "ok")
