"""Primary budgets, secondary limits, bad credentials and unknown repos, in GitHub's shapes."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from ghsync.emulator import (
    Emulator,
    EmulatorConfig,
    FaultConfig,
    running_emulator,
    started_emulator,
)
from tests.clock import FakeClock
from tests.integration.emulator.conftest import OTHER, TOKEN, graphql, http

SECONDARY = "You have exceeded a secondary rate limit"


def test_every_answer_has_rate_limit_headers(emulator: Emulator) -> None:
    answer = graphql(emulator, "{ viewer { login } }")
    assert answer.json() == {"data": {"viewer": {"login": "viewer-1"}}}
    for header in ("limit", "remaining", "used", "reset"):
        assert answer.headers[f"x-ratelimit-{header}"].isdigit()
    assert answer.headers["x-ratelimit-resource"] == "graphql"
    assert int(answer.headers["x-ratelimit-reset"]) > time.time()


def test_each_account_has_its_own_viewer_and_budget(fresh: Emulator) -> None:
    assert graphql(fresh, "{ viewer { login } }", token=OTHER).json()["data"]["viewer"] == {
        "login": "bob"
    }
    for _ in range(3):
        mine = graphql(fresh, "{ rateLimit { remaining } }", token=TOKEN).json()
    theirs = graphql(fresh, "{ rateLimit { remaining } }", token=OTHER).json()
    assert mine["data"]["rateLimit"]["remaining"] == 4997  # remaining after this query's point
    assert theirs["data"]["rateLimit"]["remaining"] == 4998


def test_tokens_of_one_login_share_one_budget() -> None:
    """GitHub counts every request of a user against that user's limit: a second PAT of one
    account adds no points."""
    third = "ghp_" + "c" * 36
    config = EmulatorConfig(tokens=(f"{TOKEN}=carol", f"{OTHER}=carol", third), repos=1, prs=5)
    query = "{ rateLimit { remaining used } }"
    with running_emulator(config) as emulator:
        for _ in range(2):
            graphql(emulator, query, token=TOKEN)
        answer = graphql(emulator, query, token=OTHER)
        assert answer.json()["data"]["rateLimit"] == {"remaining": 4997, "used": 3}
        assert answer.headers["x-ratelimit-remaining"] == "4997"
        assert graphql(emulator, query, token=third).headers["x-ratelimit-remaining"] == "4999"
        rest = http(f"{emulator.api_url}/rate_limit", token=TOKEN).json()["resources"]
        assert rest["graphql"]["used"] == 3

        set_second = {"token_index": 2, "remaining": 0, "reset_in": 600}
        assert http(f"{emulator.url}/_emulator/token", set_second).status == 200
        limited = graphql(emulator, "{ viewer { login } }", token=TOKEN)
        assert limited.json()["errors"][0]["type"] == "RATE_LIMITED"
        assert limited.headers["x-ratelimit-remaining"] == "0"
        assert graphql(emulator, "{ viewer { login } }", token=third).status == 200
        emulator.set_token_budget(TOKEN, remaining=10)
        assert graphql(emulator, query, token=OTHER).headers["x-ratelimit-remaining"] == "9"
        stats = emulator.stats()
    assert stats["points"] == {"token-1": 2, "token-2": 2, "token-3": 2}  # per token, as sent
    assert stats["remaining"] == {"token-1": 9, "token-2": 9, "token-3": 4998}


def test_primary_exhaustion_answers_200_rate_limited_until_reset() -> None:
    clock = FakeClock()
    config = EmulatorConfig(seed=5, repos=1, prs=30, tokens=(TOKEN, f"{OTHER}=bob"))
    with running_emulator(config, clock=clock.now) as emulator:
        emulator.set_token_budget(TOKEN, remaining=0, reset_in=1.0)
        answer = graphql(emulator, "{ viewer { login } }")
        body = answer.json()
        assert answer.status == 200
        assert answer.headers["x-ratelimit-remaining"] == "0"
        assert answer.headers["x-ratelimit-reset"] == str(int(clock.now() + 1))
        assert "data" not in body
        assert body["errors"][0]["type"] == "RATE_LIMITED"
        assert body["errors"][0]["message"].startswith("API rate limit exceeded for user ID ")
        assert graphql(emulator, "{ viewer { login } }", token=OTHER).status == 200  # other fine
        clock.advance(0.9)
        assert graphql(emulator, "{ viewer { login } }").json()["errors"][0]["type"] == (
            "RATE_LIMITED"
        )
        clock.advance(0.1)  # the reset
        again = graphql(emulator, "{ viewer { login } }")
        assert again.json()["data"]["viewer"]["login"] == "viewer-1"
        assert again.headers["x-ratelimit-remaining"] == "4999"


def test_query_costing_more_than_remaining_is_rate_limited(fresh: Emulator) -> None:
    fresh.set_token_budget(TOKEN, remaining=3)
    from tests.integration.emulator.conftest import sample

    body = graphql(
        fresh, sample("pr_page"), {"owner": "acme", "name": "repo-1", "first": 50}
    ).json()
    assert body["errors"][0]["type"] == "RATE_LIMITED"


def test_unknown_token_is_401_bad_credentials(emulator: Emulator) -> None:
    answer = graphql(emulator, "{ viewer { login } }", token="ghp_" + "z" * 36)
    assert answer.status == 401
    assert answer.json()["message"] == "Bad credentials"
    assert graphql(emulator, "{ viewer { login } }", token=None).status == 401


def test_token_revoked_after_n_requests(fresh: Emulator) -> None:
    fresh.set_faults(revoke_after={TOKEN: 2})
    statuses = [graphql(fresh, "{ viewer { login } }").status for _ in range(4)]
    assert statuses == [200, 200, 401, 401]
    assert graphql(fresh, "{ viewer { login } }", token=OTHER).status == 200


def test_unknown_repository_is_200_not_found_with_null(emulator: Emulator) -> None:
    answer = graphql(emulator, '{ repository(owner: "acme", name: "nope") { id } }')
    assert answer.status == 200
    body = answer.json()
    assert body["data"] == {"repository": None}
    (error,) = body["errors"]
    assert error["type"] == "NOT_FOUND"
    assert error["path"] == ["repository"]
    assert error["message"] == "Could not resolve to a Repository with the name 'acme/nope'."


def test_secondary_storm_answers_403_or_429_with_retry_after(fresh: Emulator) -> None:
    fresh.set_faults(secondary_rate=1.0, secondary_retry_after=2)
    answers = [graphql(fresh, "{ viewer { login } }") for _ in range(12)]
    assert {a.status for a in answers} == {403, 429}
    for answer in answers:
        assert answer.headers["retry-after"] == "2"
        assert answer.json()["message"].startswith(SECONDARY)
    assert fresh.stats()["counters"]["secondary"] == 12
    assert fresh.stats()["points_total"] == 0


def test_points_per_minute_per_account_is_a_secondary_limit() -> None:
    config = EmulatorConfig(
        tokens=(f"{TOKEN}=carol", f"{OTHER}=carol"),
        repos=1,
        prs=12,
        points_per_minute_per_account=10,
    )
    from tests.integration.emulator.conftest import sample

    with running_emulator(config) as emulator:
        variables = {"owner": "acme", "name": "repo-1", "first": 50}
        statuses = [
            graphql(emulator, sample("pr_page"), variables, token=t).status
            for t in (TOKEN, OTHER, TOKEN)
        ]
        # 4 points each: 4 + 4 fit in 10, the third (either token: same account) does not
        assert statuses[:2] == [200, 200]
        assert statuses[2] in (403, 429)


async def test_concurrent_requests_per_account_are_limited() -> None:
    config = EmulatorConfig(
        tokens=(TOKEN,),
        repos=1,
        prs=12,
        max_concurrent_per_account=2,
        faults=FaultConfig(latency_ms=300),
    )
    async with started_emulator(config) as emulator, aiohttp.ClientSession() as session:

        async def one() -> int:
            async with session.post(
                emulator.graphql_url,
                json={"query": "{ viewer { login } }"},
                headers={"Authorization": f"bearer {TOKEN}"},
            ) as answer:
                return answer.status

        statuses = await asyncio.gather(*(one() for _ in range(5)))
    assert sorted(statuses)[:2] == [200, 200]
    assert statuses.count(200) == 2
    assert all(status in (403, 429) for status in statuses if status != 200)


@pytest.mark.parametrize("kind", ["NOT_FOUND", "FORBIDDEN", "INSUFFICIENT_SCOPES"])
def test_denied_repository_answers_null_with_the_error_type(fresh: Emulator, kind: str) -> None:
    fresh.set_faults(denied_repos={"acme/repo-1": kind})
    body = graphql(fresh, '{ repository(owner: "acme", name: "repo-1") { id } }').json()
    assert body["data"] == {"repository": None}
    assert body["errors"][0]["type"] == kind
    assert body["errors"][0]["path"] == ["repository"]
    other = graphql(fresh, '{ repository(owner: "acme", name: "empty") { id } }').json()
    assert other["data"]["repository"]["id"]
