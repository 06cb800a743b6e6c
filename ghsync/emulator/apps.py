"""GitHub Apps as GitHub serves them: the app's JWT, its installations, installation tokens.

An app proves itself with a JWT (RS256, signed by its private key; `iat`, `exp` at most 10
minutes later, `iss` the app id or client id). With it, `GET /app/installations` lists its
installations and `POST /app/installations/{id}/access_tokens` mints an installation token
(`ghs_...`) that expires (`installation_token_seconds`, an hour on GitHub) and then answers 401
Bad credentials like a revoked token: nothing warns a client that keeps using it. Each
installation has its own GraphQL budget (5,000 points an hour, +50 per repository and per user
over 20, at most 12,500; 10,000 on Enterprise Cloud); its `viewer` is the app's bot.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

import jwt

TOKEN_ALPHABET = string.ascii_letters + string.digits
"""GitHub's tokens: a prefix and 36 letters and digits."""
JWT_MAX_SECONDS = 600
"""GitHub refuses an app JWT whose `exp` is more than 10 minutes after its `iat` or now."""
CLOCK_DRIFT_SECONDS = 60
"""How far in the future an `iat` may be (GitHub advises backdating it by 60 s)."""


@dataclass(frozen=True)
class InstallationConfig:
    """One installation of an app, on an organization (or a user)."""

    id: int
    account: str
    """The organization or user it is installed on."""
    repositories: int = 1
    users: int = 1
    enterprise_cloud: bool = False

    def points_per_hour(self) -> int:
        """GitHub's installation budget formula."""
        if self.enterprise_cloud:
            return 10_000
        extra = 50 * max(self.repositories - 20, 0) + 50 * max(self.users - 20, 0)
        return min(5_000 + extra, 12_500)


@dataclass(frozen=True)
class AppConfig:
    """An app: its ids, the public half of its key, and where it is installed."""

    id: int
    public_key: str
    """PEM (the app's key pair is made by whoever configures the emulator)."""
    installations: tuple[InstallationConfig, ...]
    slug: str = "ghsync-app"
    client_id: str = ""

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"


class JwtRefused(Exception):
    """GitHub's 401 for an app JWT, with its message."""


@dataclass(frozen=True)
class Minted:
    """An installation token GitHub issued."""

    token: str
    installation: InstallationConfig
    app: AppConfig
    expires_at: float


class Apps:
    """The configured apps, the installations removed since, and JWT checks."""

    def __init__(
        self, apps: tuple[AppConfig, ...], token_seconds: float, uninstalled: set[int]
    ) -> None:
        self.apps = apps
        self.token_seconds = token_seconds
        self.uninstalled = uninstalled
        """Installations removed (shared with the limits, which remove them on a fault)."""

    def authenticate(self, token: str | None, now: float) -> AppConfig:
        """The app whose valid JWT `token` is; JwtRefused with GitHub's message otherwise."""
        if not token:
            raise JwtRefused("A JSON web token could not be decoded")
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise JwtRefused("A JSON web token could not be decoded") from error
        app = next((a for a in self.apps if _issued_by(a, claims.get("iss"))), None)
        if app is None:
            raise JwtRefused("Integration not found")
        try:  # the signature against the app's key; the times by this emulator's clock
            jwt.decode(
                token,
                app.public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as error:
            raise JwtRefused("A JSON web token could not be decoded") from error
        _check_times(claims, now)
        return app

    def installations(self, app: AppConfig) -> list[InstallationConfig]:
        return [i for i in app.installations if i.id not in self.uninstalled]

    def mint(self, app: AppConfig, installation_id: int, now: float) -> Minted | None:
        """A new token of the app's installation; None when it has no such installation."""
        found = next((i for i in self.installations(app) if i.id == installation_id), None)
        if found is None:
            return None
        token = "ghs_" + "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(36))
        return Minted(token, found, app, now + self.token_seconds)


def _issued_by(app: AppConfig, issuer: object) -> bool:
    return str(issuer) in (str(app.id), app.client_id) and str(issuer) != ""


def _check_times(claims: dict[str, object], now: float) -> None:
    issued, expires = claims.get("iat"), claims.get("exp")
    if not isinstance(issued, int | float) or issued > now + CLOCK_DRIFT_SECONDS:
        raise JwtRefused(
            "'Issued at' claim ('iat') must be an Integer representing the time that the "
            "assertion was issued"
        )
    if not isinstance(expires, int | float) or expires <= now:
        raise JwtRefused(
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires"
        )
    if expires - issued > JWT_MAX_SECONDS or expires - now > JWT_MAX_SECONDS:
        raise JwtRefused("'Expiration time' claim ('exp') is too far in the future")
