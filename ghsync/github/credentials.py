"""What a request authenticates with, named without being shown.

A `Credential` has a stable `id` (its pool entry and its Prefect concurrency limit,
`ghsync-token-<id>`, are named by it, for its whole life), a `mask` for logs and errors, the
`header` a request sends, the `secrets` no log line may show, and `on_unauthorized`: what a
401 means for it. A personal access token cannot be renewed: a 401 drops it. A GitHub App
installation token lives an hour; its credential (issue 16) keeps one id while its token
changes: `header` renews it ahead of its expiry, and `on_unauthorized` renews it and answers
`RENEWED`, so the request is sent again with it instead of losing it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ghsync.log import mask_token, token_fingerprint


def reads(target: str | None, owner: str | None) -> bool:
    """Whether a credential installed on `target` (None: a user's token, which reads what the
    user can) reads `owner`'s repositories (None: whatever a request is about). Owners compare
    as GitHub's logins do, ignoring case."""
    return owner is None or target is None or owner.lower() == target.lower()


class AfterUnauthorized(StrEnum):
    """What becomes of a credential that GitHub answered 401 Bad credentials."""

    DROP = "drop"
    """Never use it again in this process (a personal token revoked or expired)."""
    RENEWED = "renewed"
    """It holds a new secret now: send the request again with it."""


class Credential(ABC):
    """One identity requests are sent as."""

    id: str
    """Stable and non-secret: names its pool entry and its concurrency limit."""
    mask: str
    """How logs and errors name it."""
    account: str | None = None
    """The budget it spends, when it is its own (an app installation); None: its user's,
    learned from `viewer` (the tokens of one user share one budget)."""
    kind: str = "personal-token"
    """What it is, as `ghsync tokens` lists it."""
    target: str | None = None
    """Where an app is installed (`ghsync tokens` shows it as the account)."""

    def reaches(self, owner: str | None) -> bool:
        """Whether it can read `owner`'s repositories (`reads`)."""
        return reads(self.target, owner)

    @property
    def expires_at(self) -> float | None:
        """When its current secret stops working (epoch seconds), if it says."""
        return None

    @abstractmethod
    async def header(self) -> dict[str, str]:
        """The headers that authenticate a request (Authorization)."""

    @abstractmethod
    async def on_unauthorized(self, sent: Mapping[str, str]) -> AfterUnauthorized:
        """GitHub answered 401 to a request sent with the headers `sent` (of `header`): drop
        it, or renew it."""

    @abstractmethod
    def secrets(self) -> tuple[str, ...]:
        """What no log line may show (what it holds now)."""

    def __str__(self) -> str:
        return self.mask


@dataclass(frozen=True)
class PersonalToken(Credential):
    """A personal access token (classic or fine-grained): the secret stays out of repr and
    str; its id is its fingerprint."""

    secret: str = field(repr=False)
    id: str
    mask: str

    @classmethod
    def of(cls, secret: str) -> PersonalToken:
        """Wrap a raw token string."""
        return cls(secret, token_fingerprint(secret), mask_token(secret))

    async def header(self) -> dict[str, str]:
        """`Authorization: bearer <token>`."""
        return {"Authorization": f"bearer {self.secret}"}

    async def on_unauthorized(self, sent: Mapping[str, str]) -> AfterUnauthorized:
        """A personal token GitHub rejects stays rejected."""
        return AfterUnauthorized.DROP

    def secrets(self) -> tuple[str, ...]:
        """The token."""
        return (self.secret,)
