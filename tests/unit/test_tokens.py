"""TokenPool and token parsing, with an injected clock (no real waiting)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ghsync.config import Settings
from ghsync.errors import AllTokensInvalid, ConfigError, TokensExhausted
from ghsync.github.credentials import PersonalToken
from ghsync.github.ratelimit import Quota
from ghsync.github.tokens import TokenPool, TokenState, parse_tokens, tokens_from_settings
from tests.clock import T0, FakeClock

A = "ghp_" + "a" * 32 + "AAAA"
B = "ghp_" + "b" * 32 + "BBBB"
C = "ghp_" + "c" * 32 + "CCCC"


def make_pool(
    *tokens: str, max_wait: float = 900.0, rand: float = 0.0
) -> tuple[TokenPool, FakeClock]:
    clock = FakeClock()
    return TokenPool(tokens, max_wait=max_wait, clock=clock, rand=lambda: rand), clock


def quota(remaining: int, reset_in: float = 3600.0, limit: int = 5000) -> Quota:
    return Quota(limit, remaining, T0 + reset_in, limit - remaining)


@pytest.mark.parametrize(
    ("many", "one", "expected"),
    [
        (f"{A},{B}", None, [A, B]),
        (f" {A} ,, {B} ,", None, [A, B]),
        (f"{A},{B},{A}", None, [A, B]),
        (None, f" {C} ", [C]),
        ("", C, [C]),
        (" , ", C, [C]),
        (f"{A}", C, [A]),
    ],
    ids=[
        "two",
        "whitespace-and-empties",
        "duplicates",
        "single-var",
        "empty-list-var",
        "blank-list-var",
        "list-wins",
    ],
)
def test_parse_tokens(many: str | None, one: str | None, expected: list[str]) -> None:
    assert parse_tokens(many, one) == expected


@pytest.mark.parametrize(
    ("many", "one"),
    [(None, None), ("", " "), (" , ,", None)],
    ids=["unset", "blank", "only-commas"],
)
def test_no_token_is_a_config_error_naming_the_variables(many: str | None, one: str | None) -> None:
    with pytest.raises(ConfigError, match=r"GITHUB_TOKENS .* or GITHUB_TOKEN, or a GitHub App"):
        parse_tokens(many, one)


def test_an_app_without_tokens_is_no_error() -> None:
    assert tokens_from_settings(Settings(GITHUB_APP_ID="42")) == []
    assert tokens_from_settings(Settings(GITHUB_APP_ID="42", GITHUB_TOKEN="t")) == ["t"]


def test_tokens_from_settings() -> None:
    settings = Settings(GITHUB_TOKENS=f"{A}, {B}", GITHUB_TOKEN=C)
    assert tokens_from_settings(settings) == [A, B]
    assert tokens_from_settings(Settings(GITHUB_TOKEN=C)) == [C]


def test_token_and_pool_reprs_are_masked() -> None:
    pool, _ = make_pool(A, B)
    token = PersonalToken.of(A)
    for text in (repr(pool), repr(token), str(token), repr(pool.statuses())):
        assert A not in text and B not in text
    assert str(token) == "ghp_…AAAA"


async def test_choice_is_the_token_with_most_remaining() -> None:
    pool, _ = make_pool(A, B, C)
    pool.record_quota(PersonalToken.of(A), quota(100))
    pool.record_quota(PersonalToken.of(B), quota(4000))
    pool.record_quota(PersonalToken.of(C), quota(2000))
    assert (await pool.choose()).secret == B


async def test_choice_spreads_concurrent_requests_over_the_tokens() -> None:
    pool, _ = make_pool(A, B)
    pool.record_quota(PersonalToken.of(A), quota(4000))
    pool.record_quota(PersonalToken.of(B), quota(3000))
    first, second, third = [await pool.choose() for _ in range(3)]
    # A has more points, but B is idle while A's request runs: B takes the second one
    assert [first.secret, second.secret, third.secret] == [A, B, A]
    pool.release(first)
    pool.release(third)
    assert (await pool.choose()).secret == A  # A idle again, and it has the most points left


async def test_unknown_tokens_are_tried_before_known_ones() -> None:
    pool, _ = make_pool(A, B)
    pool.record_quota(PersonalToken.of(A), quota(4999))
    assert (await pool.choose()).secret == B


async def test_a_late_answer_does_not_raise_remaining_within_a_window() -> None:
    pool, _ = make_pool(A)
    pool.record_quota(PersonalToken.of(A), quota(10))
    pool.record_quota(PersonalToken.of(A), quota(50))
    assert pool.statuses()[0].remaining == 10
    pool.record_quota(PersonalToken.of(A), quota(5000, reset_in=7200))
    assert pool.statuses()[0].remaining == 5000


async def test_exhausted_token_is_parked_and_the_other_used() -> None:
    pool, _ = make_pool(A, B)
    pool.record_quota(PersonalToken.of(A), quota(4000))
    pool.record_quota(PersonalToken.of(B), quota(0, reset_in=600))
    assert (await pool.choose()).secret == A
    states = {s.mask: s.state for s in pool.statuses()}
    assert states == {"ghp_…AAAA": TokenState.READY, "ghp_…BBBB": TokenState.PARKED}


async def test_all_parked_waits_for_the_first_reset_within_max_wait() -> None:
    pool, clock = make_pool(A, B, max_wait=10)
    pool.park(PersonalToken.of(A), T0 + 5)
    pool.park(PersonalToken.of(B), T0 + 2)
    assert (await pool.choose()).secret == B
    assert sum(clock.slept) >= 2
    assert clock.now() == pytest.approx(T0 + 3)  # reset + 1 s margin


async def test_all_parked_beyond_max_wait_raises_tokens_exhausted() -> None:
    pool, clock = make_pool(A, B, max_wait=60)
    pool.park(PersonalToken.of(A), T0 + 600)
    pool.park(PersonalToken.of(B), T0 + 300)
    with pytest.raises(TokensExhausted) as caught:
        await pool.choose()
    assert caught.value.reset_at == datetime.fromtimestamp(T0 + 301, UTC)
    assert clock.slept == []
    assert A not in str(caught.value) and "ghp_…AAAA" in str(caught.value)


async def test_park_without_reset_uses_the_known_window_or_a_minute() -> None:
    pool, _ = make_pool(A, B)
    pool.record_quota(PersonalToken.of(A), quota(3, reset_in=120))
    pool.park(PersonalToken.of(A), None)
    pool.park(PersonalToken.of(B), None)
    usable = {s.mask: s.usable_at for s in pool.statuses()}
    assert usable["ghp_…AAAA"] == datetime.fromtimestamp(T0 + 121, UTC)
    assert usable["ghp_…BBBB"] == datetime.fromtimestamp(T0 + 61, UTC)


async def test_a_reset_just_past_parks_for_the_margin_only() -> None:
    """GitHub's x-ratelimit-reset is whole seconds: an exhausted answer may name a reset that
    our clock has just passed, while GitHub's window has not ended yet."""
    pool, clock = make_pool(A, max_wait=30)
    pool.park(PersonalToken.of(A), T0 - 0.4)
    [status] = pool.statuses()
    assert status.usable_at == datetime.fromtimestamp(T0 + 1, UTC)
    assert (await pool.choose()).secret == A  # waited, did not give up
    assert clock.slept == [1.0]


async def test_secondary_pause_uses_retry_after() -> None:
    pool, clock = make_pool(A)
    assert pool.pause(PersonalToken.of(A), 1.0) == 1.0
    assert not pool.is_usable(PersonalToken.of(A))
    assert (await pool.choose()).secret == A
    assert sum(clock.slept) >= 1


@pytest.mark.parametrize(
    ("rand", "first", "second"), [(0.0, 60, 120), (1.0, 75, 150)], ids=["no-jitter", "full-jitter"]
)
def test_secondary_pause_without_retry_after_backs_off_from_a_minute(
    rand: float, first: float, second: float
) -> None:
    pool, _ = make_pool(A, rand=rand)
    assert pool.pause(PersonalToken.of(A), None) == pytest.approx(first)
    assert pool.pause(PersonalToken.of(A), None) == pytest.approx(second)
    pool.record_success(PersonalToken.of(A))
    assert pool.pause(PersonalToken.of(A), None) == pytest.approx(first)


async def test_tokens_of_one_account_share_a_secondary_pause() -> None:
    pool, _ = make_pool(A, B, C)
    pool.set_login(PersonalToken.of(A), "alice")
    pool.set_login(PersonalToken.of(B), "alice")
    pool.set_login(PersonalToken.of(C), "bob")
    pool.record_quota(PersonalToken.of(C), quota(10))
    pool.pause(PersonalToken.of(A), 30.0)
    assert not pool.is_usable(PersonalToken.of(B))
    assert (await pool.choose()).secret == C


async def test_learning_the_login_carries_an_existing_pause_over() -> None:
    pool, _ = make_pool(A, B)
    pool.pause(PersonalToken.of(A), 30.0)
    pool.set_login(PersonalToken.of(B), "alice")
    pool.set_login(PersonalToken.of(A), "alice")
    assert not pool.is_usable(PersonalToken.of(B))


async def test_dropped_tokens_are_skipped_and_none_left_is_a_clear_error() -> None:
    pool, _ = make_pool(A, B)
    pool.drop(PersonalToken.of(A))
    assert (await pool.choose()).secret == B
    assert [t.secret for t in pool.tokens()] == [B]
    pool.drop(PersonalToken.of(B))
    with pytest.raises(AllTokensInvalid, match="401"):
        await pool.choose()


async def test_parked_and_invalid_mix_waits_for_the_parked_one() -> None:
    pool, clock = make_pool(A, B)
    pool.drop(PersonalToken.of(A))
    pool.park(PersonalToken.of(B), T0 + 4)
    assert (await pool.choose()).secret == B
    assert sum(clock.slept) >= 4


def test_a_pool_needs_tokens() -> None:
    with pytest.raises(ConfigError):
        TokenPool([])


def alice_alice_bob() -> tuple[TokenPool, FakeClock]:
    """A and B: two tokens of alice's one budget; C: bob's."""
    pool, clock = make_pool(A, B, C)
    for secret, login in ((A, "alice"), (B, "alice"), (C, "bob")):
        pool.set_login(PersonalToken.of(secret), login)
    return pool, clock


def remaining(pool: TokenPool) -> list[int | None]:
    return [s.remaining for s in pool.statuses()]


async def test_tokens_of_one_account_share_one_quota() -> None:
    pool, _ = alice_alice_bob()
    pool.record_quota(PersonalToken.of(A), quota(300))
    pool.record_quota(PersonalToken.of(C), quota(200))
    assert remaining(pool) == [300, 300, 200]  # B spends alice's points too: no extra capacity
    pool.record_quota(PersonalToken.of(B), quota(250))
    pool.record_quota(PersonalToken.of(A), quota(280))  # a late answer of the same window
    assert remaining(pool) == [250, 250, 200]
    assert (await pool.choose()).secret == A  # alice has the most left: her first token


async def test_an_exhausted_account_parks_all_its_tokens() -> None:
    pool, _ = alice_alice_bob()
    pool.record_quota(PersonalToken.of(C), quota(100))
    pool.record_quota(PersonalToken.of(B), quota(0, reset_in=600))
    states = [s.state for s in pool.statuses()]
    assert states == [TokenState.PARKED, TokenState.PARKED, TokenState.READY]
    usable = {s.usable_at for s in pool.statuses()[:2]}
    assert usable == {datetime.fromtimestamp(T0 + 601, UTC)}
    assert not pool.is_usable(PersonalToken.of(A))


async def test_choice_skips_every_token_of_a_parked_account() -> None:
    pool, _ = alice_alice_bob()
    pool.park(PersonalToken.of(A), T0 + 600)
    chosen = [(await pool.choose()).secret for _ in range(3)]
    assert chosen == [C, C, C]  # not B: its account's budget is spent


async def test_all_accounts_parked_waits_for_the_first_reset() -> None:
    pool, clock = make_pool(A, B, max_wait=10)
    pool.set_login(PersonalToken.of(A), "alice")
    pool.set_login(PersonalToken.of(B), "alice")
    pool.park(PersonalToken.of(A), T0 + 5)
    assert (await pool.choose()).secret == A
    assert clock.slept == [6.0]  # B was never tried in between: the same budget


async def test_learning_a_shared_login_merges_the_quotas() -> None:
    pool, _ = make_pool(A, B, C)
    pool.record_quota(PersonalToken.of(A), quota(300))
    pool.record_quota(PersonalToken.of(B), quota(200))
    pool.record_quota(PersonalToken.of(C), quota(4000, reset_in=60))
    assert remaining(pool) == [300, 200, 4000]  # not known to share yet
    pool.set_login(PersonalToken.of(A), "alice")
    pool.set_login(PersonalToken.of(B), "alice")
    assert remaining(pool)[:2] == [200, 200]  # one window: the lowest remaining wins
    pool.set_login(PersonalToken.of(C), "alice")
    assert remaining(pool) == [4000, 4000, 4000]  # C's answer is of a newer window


async def test_learning_a_shared_login_carries_parking_over() -> None:
    pool, _ = make_pool(A, B)
    pool.record_quota(PersonalToken.of(A), quota(0, reset_in=600))
    pool.set_login(PersonalToken.of(B), "alice")
    pool.set_login(PersonalToken.of(A), "alice")
    assert [s.state for s in pool.statuses()] == [TokenState.PARKED, TokenState.PARKED]
