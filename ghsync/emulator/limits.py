"""Primary budgets and secondary limits per account, as GitHub applies them: every request of
a user counts against that user's limits, whichever of the user's tokens sends it. An app
installation is an account of its own (`installation-<id>`, its budget from GitHub's formula)
whose tokens are minted at run time and expire."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

from ghsync.emulator.apps import Minted
from ghsync.emulator.config import EmulatorConfig, FaultConfig

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {request_id}."
)
SECONDARY_DOCS = (
    "https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api"
    "#secondary-rate-limits"
)


@dataclass
class Budget:
    """One account's primary budget for one resource (`graphql` or `core`)."""

    limit: int
    used: int
    reset_at: float

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def headers(self, resource: str) -> dict[str, str]:
        """GitHub's x-ratelimit-* headers."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(int(self.reset_at)),
            "x-ratelimit-resource": resource,
        }


class Limits:
    """Budgets, concurrency and points-per-minute per account; revocations per token."""

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.accounts = config.accounts()
        self.labels = {token: f"token-{i}" for i, token in enumerate(self.accounts, start=1)}
        self._budgets: dict[tuple[str, str], Budget] = {}
        self.inflight: Counter[str] = Counter()
        self._minute: dict[str, deque[tuple[float, int]]] = {}
        self.requests: Counter[str] = Counter()
        self.revoked: set[str] = set()
        self.points_per_hour: dict[str, int] = {}
        """Budgets other than the configured one, by account (installations)."""
        self.viewers: dict[str, str] = {}
        """The `viewer` login of accounts that are not users (an installation: its app's bot)."""
        self.expires: dict[str, float] = {}
        """Installation tokens: when they stop working."""
        self.uninstalled: set[int] = set()
        """Installations removed: their tokens answer 401, none can be minted."""
        self.installation_requests: Counter[str] = Counter()
        self._minted: Counter[int] = Counter()
        self.reach: dict[str, str] = {}
        """Installation tokens: the account whose repositories they see."""

    def add_installation_token(self, minted: Minted) -> str:
        """Accept `minted` until it expires; returns its account."""
        installation = minted.installation
        account = f"installation-{installation.id}"
        self._minted[installation.id] += 1
        self.accounts[minted.token] = account
        self.labels[minted.token] = f"{account}/{self._minted[installation.id]}"
        self.points_per_hour[account] = installation.points_per_hour()
        self.viewers[account] = minted.app.bot_login
        self.expires[minted.token] = minted.expires_at
        self.reach[minted.token] = installation.account
        return account

    def uninstall(self, installation_id: int) -> None:
        """Remove the installation: its tokens answer 401 from now on, and none is minted."""
        self.uninstalled.add(installation_id)
        account = f"installation-{installation_id}"
        self.revoked |= {token for token, owner in self.accounts.items() if owner == account}

    def viewer_login(self, token: str) -> str:
        """Who `viewer` is for the token: its user, or its installation's bot."""
        account = self.accounts[token]
        return self.viewers.get(account, account)

    def budget(self, token: str, resource: str = "graphql") -> Budget:
        """The budget of the token's account, renewed when its window has passed."""
        now = self.clock()
        key = (self.accounts[token], resource)
        budget = self._budgets.get(key)
        if budget is None or now >= budget.reset_at:
            limit = self.points_per_hour.get(key[0], self.config.points_per_hour)
            budget = Budget(limit, 0, now + self.config.reset_seconds)
            self._budgets[key] = budget
        return budget

    def set_budget(self, token: str, remaining: int | None, reset_in: float | None) -> Budget:
        """Force the state of the token's account's budget (tests: 'exhausted, resets in 2 s');
        the account's other tokens see it too."""
        budget = self.budget(token)
        if remaining is not None:
            budget.used = budget.limit - remaining
        if reset_in is not None:
            budget.reset_at = self.clock() + reset_in
        return budget

    def is_authorised(self, token: str | None, faults: FaultConfig) -> bool:
        """Known, not revoked, not expired; counts the request towards the faults'
        `revoke_after` (token -> N) and `uninstall_after` (installation id -> N requests of
        its tokens)."""
        if token is None or token not in self.accounts or token in self.revoked:
            return False
        if token in self.expires and self.clock() >= self.expires[token]:
            return False
        self.requests[token] += 1
        if token in self.expires:  # an installation's
            account = self.accounts[token]
            self.installation_requests[account] += 1
            installation = int(account.removeprefix("installation-"))
            allowed = {int(k): v for k, v in faults.uninstall_after.items()}.get(installation)
            if allowed is not None and self.installation_requests[account] > allowed:
                self.uninstall(installation)
                return False
        limit = faults.revoke_after.get(token)
        if limit is not None and self.requests[token] > limit:
            self.revoked.add(token)
            return False
        return True

    def points_last_minute(self, account: str) -> int:
        """Points the account spent in the last 60 s."""
        window = self._minute.setdefault(account, deque())
        horizon = self.clock() - 60
        while window and window[0][0] < horizon:
            window.popleft()
        return sum(points for _, points in window)

    def charge(self, token: str, points: int) -> Budget:
        """Spend points from the token's account: its budget and its minute window."""
        budget = self.budget(token)
        budget.used += points
        self._minute.setdefault(self.accounts[token], deque()).append((self.clock(), points))
        return budget
