"""TokenPool: what each account may still spend, which token to use next, and when to wait.

GitHub charges every request of a user to that user's one budget (and secondary limits),
whichever of the user's tokens sends it: tokens of one account share their quota, parking and
pauses once `set_login` has told the pool whose they are.

One pool serves every request of a process. Its state changes only in plain (non-async)
methods, so under asyncio each change is atomic; only `choose` awaits (the injected clock's
sleep) and re-reads the state after it. It holds Credentials (`credentials.py`), by their
ids; they show themselves only as masks.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar, Protocol

from ghsync.config import Settings
from ghsync.errors import AllTokensInvalid, ConfigError, TokensExhausted, Unreachable
from ghsync.github.credentials import Credential, PersonalToken, reads
from ghsync.github.ratelimit import Quota, secondary_pause
from ghsync.log import get_logger

log = get_logger(__name__)

PRIMARY_RESET_MARGIN = 1.0
"""Seconds past a reset before a parked token is tried again (as octokit does)."""
UNKNOWN_RESET_PAUSE = 60.0
"""Parking time when an exhausted answer carries no reset time."""


def parse_tokens(github_tokens: str | None, github_token: str | None) -> list[str]:
    """Tokens from GITHUB_TOKENS (comma-separated) or else GITHUB_TOKEN (`_listed`); none is
    a ConfigError."""
    unique = _listed(github_tokens, github_token)
    if not unique:
        raise ConfigError(
            "no GitHub token: set GITHUB_TOKENS (comma-separated) or GITHUB_TOKEN, or a GitHub "
            "App (GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY)"
        )
    return unique


def _listed(github_tokens: str | None, github_token: str | None) -> list[str]:
    """Whitespace stripped, empty entries dropped, duplicates removed (first one kept)."""
    raw = github_tokens if github_tokens and github_tokens.strip(" ,\n\t") else github_token
    tokens = [t.strip() for t in (raw or "").split(",")]
    return list(dict.fromkeys(t for t in tokens if t))


def tokens_from_settings(settings: Settings) -> list[str]:
    """The tokens of `settings` (GITHUB_TOKENS, else GITHUB_TOKEN), parsed by `parse_tokens`;
    none is an error unless a GitHub App is configured."""
    many = settings.github_tokens.get_secret_value() if settings.github_tokens else None
    one = settings.github_token.get_secret_value() if settings.github_token else None
    if settings.github_app_id and not _listed(many, one):
        return []  # a GitHub App's installations are the pool
    return parse_tokens(many, one)


class Clock(Protocol):
    """Time as the pool sees it; tests inject a fake one."""

    def now(self) -> float:
        """Epoch seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        """Epoch seconds."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` on the running event loop."""
        await asyncio.sleep(seconds)


class TokenState(StrEnum):
    """Why a token is or is not usable now."""

    READY = "ready"
    PARKED = "parked"
    """Primary budget spent: waits for its reset."""
    PAUSED = "paused"
    """Its account hit a secondary limit: waits for retry-after or backoff."""
    INVALID = "invalid"
    """Answered 401: never used again in this process."""


@dataclass(frozen=True)
class TokenStatus:
    """A snapshot of one token, for `ghsync tokens` and logs: the budget is its account's."""

    mask: str
    login: str | None
    limit: int | None
    remaining: int | None
    reset_at: datetime | None
    state: TokenState
    usable_at: datetime | None
    kind: str = "personal-token"
    account: str | None = None
    """Whose budget it spends: the user's login, or the installation's own; None: unknown."""
    target: str | None = None
    """Where an app installation is installed."""
    expires_at: datetime | None = None
    """When its current token expires (an app installation's, renewed before)."""

    HEADER: ClassVar[tuple[str, ...]] = (
        "CREDENTIAL",
        "KIND",
        "ACCOUNT",
        "POINTS",
        "RESET",
        "EXPIRES",
        "STATE",
    )
    """The names of the `cells`."""

    def reaches(self, owner: str | None) -> bool:
        """Whether its credential can read `owner`'s repositories (`Credential.reaches`)."""
        return reads(self.target, owner)

    def cells(self) -> tuple[str, ...]:
        """Its row of `ghsync tokens`: mask, kind, account (or installation target),
        remaining/limit of its own budget, reset, expiry of its current token, state."""
        budget = f"{self.remaining}/{self.limit}" if self.limit is not None else "?/?"
        reset = self.reset_at.isoformat() if self.reset_at else "?"
        expires = self.expires_at.isoformat() if self.expires_at else "-"
        state = str(self.state)
        if self.usable_at is not None:
            state += f" until {self.usable_at.isoformat()}"
        account = self.target or self.login or "?"
        return (self.mask, self.kind, account, budget, reset, expires, state)


@dataclass
class _Entry:
    token: Credential
    account: str
    """Key of its `_Account`: the credential's id until `set_login` learns the login."""
    login: str | None = None
    invalid: bool = False
    in_flight: int = 0
    """Requests that chose this token and have not finished (waiting for its slot included)."""


@dataclass
class _Account:
    """What the tokens of one account share: the primary budget and the secondary pauses."""

    quota: Quota | None = None
    parked_until: float = 0.0
    paused_until: float = 0.0
    strikes: int = 0


def _merged(old: Quota | None, new: Quota) -> Quota:
    """`new`, unless it is of `old`'s window with more remaining: answers arrive out of order,
    and within one window the lowest remaining is the latest."""
    if old is not None and old.reset_at == new.reset_at and old.remaining < new.remaining:
        return Quota(new.limit, old.remaining, new.reset_at, old.used)
    return new


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class TokenPool:
    """Quotas per account, the choice of token, parking, pauses and invalid tokens."""

    def __init__(
        self,
        tokens: Sequence[Credential | str],
        *,
        max_wait: float = 900.0,
        clock: Clock | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        """`tokens`: credentials, a str being a personal access token."""
        if not tokens:
            raise ConfigError("a token pool needs at least one token")
        self.max_wait = max_wait
        self.clock: Clock = clock or SystemClock()
        self._rand = rand
        credentials = [PersonalToken.of(t) if isinstance(t, str) else t for t in tokens]
        self._entries = {c.id: _Entry(c, c.account or c.id) for c in credentials}
        self._accounts = {e.account: _Account() for e in self._entries.values()}

    def __repr__(self) -> str:
        return f"TokenPool({', '.join(e.token.mask for e in self._entries.values())})"

    def tokens(self) -> list[Credential]:
        """Every credential not known to be invalid, in configuration order."""
        return [e.token for e in self._entries.values() if not e.invalid]

    def secrets(self) -> list[str]:
        """What no log line may show: every credential's secrets (dropped ones' too)."""
        return [secret for e in self._entries.values() for secret in e.token.secrets()]

    def _state(self, entry: _Entry, now: float) -> TokenState:
        account = self._accounts[entry.account]
        if entry.invalid:
            return TokenState.INVALID
        if account.parked_until > now:
            return TokenState.PARKED
        if account.paused_until > now:
            return TokenState.PAUSED
        return TokenState.READY

    def _usable_at(self, entry: _Entry) -> float:
        account = self._accounts[entry.account]
        return max(account.parked_until, account.paused_until)

    def _remaining(self, entry: _Entry, now: float) -> int:
        quota = self._accounts[entry.account].quota
        if quota is None or quota.reset_at <= now:
            return quota.limit if quota else 1 << 30  # unknown: try it, the answer tells us
        return quota.remaining

    def is_usable(self, token: Credential) -> bool:
        """Whether `token` may be used right now."""
        entry = self._entries[token.id]
        return self._state(entry, self.clock.now()) is TokenState.READY

    def scoped(self) -> bool:
        """Whether some credential reads only one owner's repositories (an app installation)."""
        return any(e.token.target is not None for e in self._entries.values())

    async def choose(self, owner: str | None = None) -> Credential:
        """The usable token with the fewest requests in flight, then the most points left in
        its account (a token whose slots are all taken would make a request wait while another
        token idles), among those that can read `owner`'s repositories (None: any); waits
        while all are parked. `release` the token when the request is done.

        Raises AllTokensInvalid when no valid token is left, Unreachable when none can read
        `owner`'s repositories, TokensExhausted when the first one usable again is further
        away than `max_wait`.
        """
        reaching = [e for e in self._entries.values() if e.token.reaches(owner)]
        if not reaching and owner is not None:
            raise Unreachable(owner, [e.token.mask for e in self._entries.values()])
        while True:
            now = self.clock.now()
            valid = [e for e in reaching if not e.invalid]
            if not valid:
                raise AllTokensInvalid([e.token.mask for e in reaching])
            ready = [e for e in valid if self._state(e, now) is TokenState.READY]
            if ready:
                chosen = min(ready, key=lambda e: (e.in_flight, -self._remaining(e, now)))
                chosen.in_flight += 1
                return chosen.token
            usable_at = min(self._usable_at(e) for e in valid)
            if usable_at - now > self.max_wait:
                raise TokensExhausted(_when(usable_at), [e.token.mask for e in valid])
            log.warning("all tokens rate limited: waiting %.1f s", usable_at - now)
            await self.clock.sleep(usable_at - now)

    def release(self, token: Credential) -> None:
        """A request that `choose` gave `token` to has finished."""
        self._entries[token.id].in_flight -= 1

    def record_quota(self, token: Credential, quota: Quota) -> None:
        """Learn the budget of a token's account from an answer; remaining 0 parks the account
        until the reset. Within one window the lowest remaining wins (answers arrive out of
        order)."""
        account = self._accounts[self._entries[token.id].account]
        account.quota = _merged(account.quota, quota)
        if account.quota.remaining <= 0:
            self.park(token, account.quota.reset_at)

    def record_success(self, token: Credential) -> None:
        """A normal answer: the account's secondary-limit strikes start over."""
        self._accounts[self._entries[token.id].account].strikes = 0

    def park(self, token: Credential, reset_at: float | None) -> None:
        """Primary limit reached: keep every token of `token`'s account out until `reset_at`
        (epoch seconds)."""
        entry = self._entries[token.id]
        account = self._accounts[entry.account]
        now = self.clock.now()
        if reset_at is None:
            known = account.quota.reset_at if account.quota else 0.0
            reset_at = known if known > now else now + UNKNOWN_RESET_PAUSE
        # A reset just past is still ahead: GitHub gives it in whole seconds (the true one is up
        # to a second later), and its clock may run behind ours. Parking a minute for it made a
        # run give up with a reset seconds away.
        reset_at = max(reset_at, now)
        until = reset_at + PRIMARY_RESET_MARGIN
        if until > account.parked_until:
            account.parked_until = until
            log.warning(
                "token %s (account %s) rate limited until %s",
                token.mask,
                entry.login or token.mask,
                _when(reset_at).isoformat(),
            )

    def pause(self, token: Credential, retry_after: float | None) -> float:
        """Secondary limit: pause every token of `token`'s account; returns the pause (s)."""
        entry = self._entries[token.id]
        account = self._accounts[entry.account]
        account.strikes += 1
        seconds = secondary_pause(retry_after, account.strikes, self._rand)
        account.paused_until = max(account.paused_until, self.clock.now() + seconds)
        log.warning(
            "secondary rate limit on token %s (account %s): pausing %.1f s",
            token.mask,
            entry.login or token.mask,
            seconds,
        )
        return seconds

    def drop(self, token: Credential) -> None:
        """401 Bad credentials: never use `token` again."""
        entry = self._entries[token.id]
        if not entry.invalid:
            entry.invalid = True
            log.warning("token %s rejected (401 Bad credentials): dropped", token.mask)

    def set_login(self, token: Credential, login: str) -> None:
        """Record the account behind `token`: from now on it shares that account's budget,
        parking and pauses with the account's other tokens. What the token had learned alone
        joins in (its quota as the latest answer, the later parking and pause)."""
        entry = self._entries[token.id]
        entry.login = login
        if token.account is not None:  # an installation: its budget is its own, not its bot's
            return
        old = self._accounts[entry.account]
        entry.account = f"login:{login}"
        shared = self._accounts.setdefault(entry.account, _Account())
        if old.quota is not None:
            shared.quota = _merged(shared.quota, old.quota)
        shared.parked_until = max(shared.parked_until, old.parked_until)
        shared.paused_until = max(shared.paused_until, old.paused_until)
        shared.strikes = max(shared.strikes, old.strikes)

    def statuses(self) -> list[TokenStatus]:
        """A snapshot of every token, in configuration order."""
        now = self.clock.now()
        result = []
        for entry in self._entries.values():
            quota, state = self._accounts[entry.account].quota, self._state(entry, now)
            result.append(
                TokenStatus(
                    mask=entry.token.mask,
                    login=entry.login,
                    limit=quota.limit if quota else None,
                    remaining=quota.remaining if quota else None,
                    reset_at=_when(quota.reset_at) if quota else None,
                    state=state,
                    usable_at=_when(self._usable_at(entry)) if state in _WAITING else None,
                    kind=entry.token.kind,
                    account=entry.account if entry.login or entry.token.account else None,
                    target=entry.token.target,
                    expires_at=_when(expires) if (expires := entry.token.expires_at) else None,
                )
            )
        return result


_WAITING = (TokenState.PARKED, TokenState.PAUSED)
