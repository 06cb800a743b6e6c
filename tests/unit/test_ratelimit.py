"""The pure rules: quota headers, retry-after, backoff and the classification of answers."""

from __future__ import annotations

from typing import Any

import pytest

from ghsync.github.ratelimit import (
    Answer,
    Kind,
    Quota,
    backoff_delay,
    classify,
    parse_quota_field,
    parse_quota_headers,
    parse_retry_after,
    secondary_pause,
)

NOW = 1_700_000_000.0
QUOTA_HEADERS = {
    "X-RateLimit-Limit": "5000",
    "x-ratelimit-remaining": "4990",
    "x-ratelimit-used": "10",
    "x-ratelimit-reset": "1700003600",
    "x-ratelimit-resource": "graphql",
}
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
TIMEOUT_MESSAGE = (
    "Something went wrong while executing your query. This may be the result of a timeout, "
    "or it could be a GitHub bug. Please include `A1B2` when reporting this issue."
)

RESOURCE_LIMITS = {
    "type": "RESOURCE_LIMITS_EXCEEDED",
    "message": "Resource limits for this query exceeded.",
}


def test_quota_headers_are_read_case_insensitively() -> None:
    assert parse_quota_headers(QUOTA_HEADERS) == Quota(5000, 4990, 1_700_003_600.0, 10)


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-ratelimit-limit": "5000"}, {**QUOTA_HEADERS, "x-ratelimit-remaining": "lots"}],
    ids=["none", "partial", "garbled"],
)
def test_missing_or_garbled_quota_headers_give_none(headers: dict[str, str]) -> None:
    assert parse_quota_headers(headers) is None


def test_quota_field_of_the_body() -> None:
    field = {"limit": 5000, "remaining": 12, "used": 4988, "resetAt": "2023-11-14T22:13:20Z"}
    assert parse_quota_field(field) == Quota(5000, 12, NOW, 4988)
    assert parse_quota_field(None) is None
    assert parse_quota_field({"limit": 5000}) is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("30", 30.0),
        (" 1 ", 1.0),
        ("Tue, 14 Nov 2023 22:14:20 GMT", 60.0),
        ("Tue, 14 Nov 2023 22:00:00 GMT", 0.0),
        ("soon", None),
    ],
    ids=["absent", "seconds", "padded", "http-date", "date-in-past", "garbage"],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    headers = {} if value is None else {"Retry-After": value}
    assert parse_retry_after(headers, NOW) == seconds


@pytest.mark.parametrize(
    ("attempt", "rand", "delay"),
    [(0, 0.0, 0.5), (0, 0.999, 0.9995), (3, 0.5, 6.0), (10, 0.0, 30.0), (10, 1.0, 60.0)],
    ids=["first-low", "first-high", "fourth-mid", "capped-low", "capped-high"],
)
def test_backoff_grows_exponentially_with_jitter_and_a_cap(
    attempt: int, rand: float, delay: float
) -> None:
    assert backoff_delay(attempt, lambda: rand) == pytest.approx(delay)


@pytest.mark.parametrize(
    ("retry_after", "strikes", "rand", "pause"),
    [
        (1.0, 1, 0.9, 1.0),
        (None, 1, 0.0, 60.0),
        (None, 1, 1.0, 75.0),
        (None, 3, 0.0, 240.0),
        (None, 20, 0.0, 900.0),
    ],
    ids=["retry-after-wins", "first-strike", "first-strike-jitter", "third-strike", "capped"],
)
def test_secondary_pause(
    retry_after: float | None, strikes: int, rand: float, pause: float
) -> None:
    assert secondary_pause(retry_after, strikes, lambda: rand) == pytest.approx(pause)


def answer(
    status: int = 200,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    has_data: bool = False,
    malformed: bool = False,
    message: str = "",
) -> Answer:
    return Answer(status, headers or {}, tuple(errors or ()), has_data, malformed, message)


CASES: list[tuple[str, Answer, Kind]] = [
    ("ok", answer(has_data=True), Kind.OK),
    ("401-bad-credentials", answer(401), Kind.UNAUTHORIZED),
    (
        "200-rate-limited",
        answer(
            errors=[{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]
        ),
        Kind.PRIMARY,
    ),
    (
        "200-rate-limit-new-variant",
        answer(errors=[{"type": "RATE_LIMIT", "code": "graphql_rate_limit", "message": "x"}]),
        Kind.PRIMARY,
    ),
    (
        "rate-limited-with-remaining-left",
        answer(
            headers={**QUOTA_HEADERS},
            errors=[{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}],
        ),
        Kind.PRIMARY,
    ),
    ("403-remaining-0", answer(403, {**QUOTA_HEADERS, "x-ratelimit-remaining": "0"}), Kind.PRIMARY),
    ("429-remaining-0", answer(429, {**QUOTA_HEADERS, "x-ratelimit-remaining": "0"}), Kind.PRIMARY),
    ("403-retry-after", answer(403, {"retry-after": "1"}), Kind.SECONDARY),
    ("429-retry-after", answer(429, {"retry-after": "5"}), Kind.SECONDARY),
    ("403-no-reason", answer(403, QUOTA_HEADERS), Kind.SECONDARY),
    ("200-secondary-message", answer(errors=[{"message": SECONDARY_MESSAGE}]), Kind.SECONDARY),
    ("502-html", answer(502), Kind.TIMEOUT),
    ("504", answer(504), Kind.TIMEOUT),
    ("json-timeout-message", answer(errors=[{"message": TIMEOUT_MESSAGE}]), Kind.TIMEOUT),
    ("500", answer(500), Kind.SERVER_ERROR),
    ("503", answer(503), Kind.SERVER_ERROR),
    (
        "200-garbled-json",
        answer(200, {"Content-Type": "application/json"}, malformed=True),
        Kind.SERVER_ERROR,
    ),
    (
        "200-html-page",
        answer(200, {"Content-Type": "text/html; charset=utf-8"}, malformed=True),
        Kind.NOT_GRAPHQL,
    ),
    ("200-no-content-type", answer(malformed=True), Kind.NOT_GRAPHQL),
    ("404-json", answer(404, {"Content-Type": "application/json"}), Kind.NOT_GRAPHQL),
    ("404-html", answer(404, {"Content-Type": "text/html"}), Kind.NOT_GRAPHQL),
    (
        "something-went-wrong-without-timeout",
        answer(errors=[{"message": "Something went wrong while executing your query."}]),
        Kind.SERVER_ERROR,
    ),
    (
        "not-found",
        answer(
            errors=[{"type": "NOT_FOUND", "path": ["repository"], "message": "Could not"}],
            has_data=True,
        ),
        Kind.NOT_FOUND,
    ),
    (
        "forbidden",
        answer(
            errors=[{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}],
            has_data=True,
        ),
        Kind.FORBIDDEN,
    ),
    (
        "insufficient-scopes",
        answer(
            errors=[{"type": "INSUFFICIENT_SCOPES", "message": "needs read:org"}], has_data=True
        ),
        Kind.INSUFFICIENT_SCOPES,
    ),
    (
        "pagination-misuse",
        answer(errors=[{"message": "Requesting 101 records on the connection exceeds the limit"}]),
        Kind.QUERY_ERROR,
    ),
    (
        "resource-limits-typed-partial",
        answer(errors=[{**RESOURCE_LIMITS, "path": ["repository", "pullRequests"]}], has_data=True),
        Kind.RESOURCE_LIMITED,
    ),
    (
        "resource-limits-message-only",
        answer(errors=[{"message": RESOURCE_LIMITS["message"]}], has_data=True),
        Kind.RESOURCE_LIMITED,
    ),
    (
        "resource-limits-other-wording",
        answer(errors=[{"message": "This query exceeded a Resource Limit; results are partial"}]),
        Kind.RESOURCE_LIMITED,
    ),
    (
        "resource-limits-type-only",
        answer(errors=[{"type": "RESOURCE_LIMIT_EXCEEDED", "message": "Query too big"}]),
        Kind.RESOURCE_LIMITED,
    ),
    (
        "resource-limits-beside-not-found",  # a batch with a null item is not a partial OK
        answer(
            errors=[{"type": "NOT_FOUND", "message": "Could not"}, RESOURCE_LIMITS], has_data=True
        ),
        Kind.RESOURCE_LIMITED,
    ),
    ("400", answer(400), Kind.QUERY_ERROR),
    (
        "400-rest-message",
        answer(400, malformed=True, message="Problems parsing JSON"),
        Kind.QUERY_ERROR,
    ),
    (
        "403-secondary-message",
        answer(403, malformed=True, message=SECONDARY_MESSAGE),
        Kind.SECONDARY,
    ),
    ("401-rest-message", answer(401, malformed=True, message="Bad credentials"), Kind.UNAUTHORIZED),
    ("502-json", answer(502, errors=[{"message": TIMEOUT_MESSAGE}]), Kind.TIMEOUT),
    (
        "500-json-errors",
        answer(500, errors=[{"message": "Something went wrong"}]),
        Kind.SERVER_ERROR,
    ),
    (
        "404-with-graphql-errors",  # a GraphQL answer says what it means, whatever the status
        answer(404, errors=[{"type": "NOT_FOUND", "message": "Could not"}], has_data=True),
        Kind.NOT_FOUND,
    ),
    (
        "403-with-graphql-errors",
        answer(403, errors=[{"type": "FORBIDDEN", "message": "Resource not accessible"}]),
        Kind.FORBIDDEN,
    ),
    (
        "not-found-mixed-with-other",
        answer(errors=[{"type": "NOT_FOUND", "message": "a"}, {"type": "MAX_NODE_LIMIT_EXCEEDED"}]),
        Kind.QUERY_ERROR,
    ),
]


@pytest.mark.parametrize(("answer_", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_classify(answer_: Answer, kind: Kind) -> None:
    assert classify(answer_, NOW).kind is kind


def test_secondary_verdict_carries_retry_after() -> None:
    verdict = classify(answer(403, {"retry-after": "7"}), NOW)
    assert verdict.retry_after == 7.0
    verdict = classify(answer(errors=[{"message": SECONDARY_MESSAGE}]), NOW)
    assert verdict.retry_after is None and "secondary rate limit" in verdict.message
    verdict = classify(answer(403, {"retry-after": "3"}, message=SECONDARY_MESSAGE), NOW)
    assert verdict.retry_after == 3.0 and verdict.message == SECONDARY_MESSAGE  # a 403's own
