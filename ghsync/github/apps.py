"""GitHub App installations as credentials: a JWT signed by the app's key mints installation
tokens, renewed before they expire and at once when GitHub answers 401.

An installation token lives an hour (FACTS.md "GitHub Apps"). The credential keeps one stable
id (`app-<app id>-installation-<id>`: its pool entry, its account, its Prefect limit) while its
token changes. DevLake kept one token and failed with 401 after an hour; this one renews a few
minutes ahead (a quarter of the token's life when that is shorter, tests' tokens live seconds),
and a request that meets a 401 anyway renews it and is sent again, so a sync of many hours
never fails for an expired token. Concurrent requests renew once (a lock, and a 401 to a token
older than the current one is already answered).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ghsync.config import Settings
from ghsync.errors import ConfigError, CredentialLost, RetriableError
from ghsync.github.credentials import AfterUnauthorized, Credential
from ghsync.timestamps import parse_time

JWT_BACKDATE_SECONDS = 60
"""`iat` this far in the past: GitHub's clock may run behind ours."""
JWT_LIFETIME_SECONDS = 540
"""`exp` after now: within GitHub's 10 minutes, with the backdated `iat`."""
RENEW_AHEAD_SECONDS = 300.0
"""Renew an installation token this long before `expires_at` (at most a quarter of its life)."""
FRESH_SECONDS = 60.0
"""A token GitHub refuses within this long of its minting counts towards giving up on it."""
FRESH_REFUSALS = 3
"""Fresh tokens refused in a row before the installation is dropped (not renewed forever)."""
REQUEST_TIMEOUT_SECONDS = 30.0


class AppKeyRefused(ConfigError):
    """GitHub refused the app's JWT (401): a wrong private key, app id or clock."""

    def __init__(self, app_id: str, message: str) -> None:
        super().__init__(
            f"GitHub refused the JWT of GitHub App {app_id}: {message} (check GITHUB_APP_ID, "
            "that GITHUB_APP_PRIVATE_KEY is that app's private key, and this machine's clock)"
        )
        self.app_id, self.detail = app_id, message


class InstallationGone(CredentialLost):
    """The app has no such installation (uninstalled, suspended, or another app's)."""

    def __init__(self, app_id: str, installation_id: int, status: int) -> None:
        super().__init__(
            f"GitHub App {app_id} has no usable installation {installation_id} (HTTP {status})"
        )
        self.app_id, self.installation_id, self.status = app_id, installation_id, status


class AppRequestFailed(RetriableError):
    """A call of the App REST API failed for a reason that may pass (5xx, network)."""


@dataclass(frozen=True)
class AppKey:
    """An app's identity: its id (or client id) and its private key (PEM)."""

    app_id: str
    private_key: str = field(repr=False)
    _signer: rsa.RSAPrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            loaded = serialization.load_pem_private_key(self.private_key.encode(), password=None)
        except (ValueError, TypeError):
            loaded = None
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ConfigError(
                f"the private key of GitHub App {self.app_id} is not an RSA private key in PEM "
                "form (the .pem file GitHub made for the app, unencrypted)"
            )
        object.__setattr__(self, "_signer", loaded)

    def jwt(self, now: float) -> str:
        """A JWT GitHub accepts for the next minutes (RS256)."""
        claims = {
            "iat": int(now) - JWT_BACKDATE_SECONDS,
            "exp": int(now) + JWT_LIFETIME_SECONDS,
            "iss": self.app_id,
        }
        return jwt.encode(claims, self._signer, algorithm="RS256")


@dataclass(frozen=True)
class Installation:
    """One installation of the app, as `GET /app/installations` lists it."""

    id: int
    account: str | None


@dataclass(frozen=True)
class MintedToken:
    token: str = field(repr=False)
    expires_at: float


class AppApi:
    """The App endpoints of GitHub's REST API (`GITHUB_API_URL`), authenticated by the JWT."""

    def __init__(self, api_url: str, key: AppKey, clock: Callable[[], float] = time.time) -> None:
        self.api_url = api_url.rstrip("/")
        self.key = key
        self.clock = clock

    async def installations(self) -> list[Installation]:
        """Every installation of the app (all pages)."""
        found: list[Installation] = []
        page = 1
        while True:
            status, body = await self._call("GET", f"/app/installations?per_page=100&page={page}")
            if status != 200 or not isinstance(body, list):
                raise AppRequestFailed(f"GitHub App {self.key.app_id}: installations: {status}")
            found += [_installation(item) for item in body if isinstance(item, dict)]
            if len(body) < 100:
                return found
            page += 1

    async def mint(self, installation_id: int) -> MintedToken:
        """A new token of the installation."""
        path = f"/app/installations/{installation_id}/access_tokens"
        status, body = await self._call("POST", path)
        if status in (403, 404, 422):
            raise InstallationGone(self.key.app_id, installation_id, status)
        if status != 201 or not isinstance(body, dict) or "token" not in body:
            raise AppRequestFailed(
                f"GitHub App {self.key.app_id}: minting a token of installation "
                f"{installation_id} answered HTTP {status}"
            )
        expires = parse_time(str(body["expires_at"]))
        return MintedToken(str(body["token"]), expires.timestamp())

    async def _call(self, method: str, path: str) -> tuple[int, Any]:
        headers = {
            "Authorization": f"Bearer {self.key.jwt(self.clock())}",
            "Accept": "application/vnd.github+json",
            "User-Agent": "ghsync",
        }
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.request(method, self.api_url + path, headers=headers) as answer,
            ):
                body = await answer.json(content_type=None)
                status = answer.status
        except (aiohttp.ClientError, OSError, ValueError) as error:
            raise AppRequestFailed(
                f"GitHub App {self.key.app_id}: {method} {self.api_url}{path}: "
                f"{type(error).__name__}"
            ) from None
        if status == 401:
            message = body.get("message") if isinstance(body, dict) else None
            raise AppKeyRefused(self.key.app_id, str(message or "Bad credentials"))
        return status, body


def _installation(item: Mapping[str, Any]) -> Installation:
    account = item.get("account")
    login = account.get("login") if isinstance(account, dict) else None
    return Installation(int(item["id"]), login if isinstance(login, str) else None)


class InstallationToken(Credential):
    """An app installation's credential: renews its token ahead of expiry and on 401."""

    def __init__(
        self,
        api: AppApi,
        installation: Installation,
        *,
        renew_ahead: float = RENEW_AHEAD_SECONDS,
    ) -> None:
        self.api = api
        self.installation = installation
        app_id = api.key.app_id
        self.id = f"app-{app_id}-installation-{installation.id}"
        self.account = self.id
        self.kind = "app-installation"
        self.target = installation.account
        self.mask = f"app-{app_id}/installation-{installation.id}"
        self.renew_ahead = renew_ahead
        self.renewals = 0
        """Tokens minted so far."""
        self._current: MintedToken | None = None
        self._minted_at = 0.0
        self._fresh_refusals = 0
        self._issued: list[str] = []
        self._lock = asyncio.Lock()

    @property
    def expires_at(self) -> float | None:
        """When the current token stops working (None before the first one)."""
        return self._current.expires_at if self._current else None

    async def header(self) -> dict[str, str]:
        """`Authorization: bearer <installation token>`, renewed first when it is due."""
        async with self._lock:
            if self._current is None or self.api.clock() >= self._renew_at(self._current):
                await self._renew()
            assert self._current is not None
            return _authorization(self._current.token)

    async def on_unauthorized(self, sent: Mapping[str, str]) -> AfterUnauthorized:
        """The token `sent` expired or was revoked: renew it (once for every request that met
        the same 401); an installation GitHub no longer has is dropped."""
        async with self._lock:
            if self._current is not None and _authorization(self._current.token) != dict(sent):
                return AfterUnauthorized.RENEWED  # another request renewed it meanwhile
            fresh = self.api.clock() - self._minted_at < FRESH_SECONDS
            self._fresh_refusals = self._fresh_refusals + 1 if fresh else 0
            if self._fresh_refusals >= FRESH_REFUSALS:
                return AfterUnauthorized.DROP
            try:
                await self._renew()
            except InstallationGone:
                return AfterUnauthorized.DROP
            except AppRequestFailed:  # minting failed for now: `header` mints, the client backs off
                self._current = None
            return AfterUnauthorized.RENEWED

    def secrets(self) -> tuple[str, ...]:
        """Every token it was given (an old one may still be in a message) and the key."""
        return (*self._issued, self.api.key.private_key)

    def _renew_at(self, token: MintedToken) -> float:
        ahead = min(self.renew_ahead, (token.expires_at - self._minted_at) / 4)
        return token.expires_at - ahead

    async def _renew(self) -> None:
        minted_at = self.api.clock()
        self._current = await self.api.mint(self.installation.id)
        self._minted_at = minted_at
        self._issued.append(self._current.token)
        self.renewals += 1


def _authorization(token: str) -> dict[str, str]:
    return {"Authorization": f"bearer {token}"}


async def installation_credentials(
    api: AppApi, installation_ids: list[int] | None
) -> list[InstallationToken]:
    """A credential per installation: `installation_ids`, or every installation the app has."""
    listed = await api.installations()
    if installation_ids is None:
        chosen = listed
    else:
        known = {installation.id: installation for installation in listed}
        missing = [i for i in installation_ids if i not in known]
        if missing:
            raise ConfigError(
                f"GitHub App {api.key.app_id} has no installation "
                f"{', '.join(map(str, missing))} (it has: "
                f"{', '.join(str(i) for i in known) or 'none'})"
            )
        chosen = [known[i] for i in installation_ids]
    if not chosen:
        raise ConfigError(f"GitHub App {api.key.app_id} is installed nowhere: install it first")
    return [InstallationToken(api, installation) for installation in chosen]


def app_key(settings: Settings, private_key: str | None = None) -> AppKey | None:
    """The app configured in `settings`, None when there is none. Its private key: `private_key`
    (a deployment's Secret block), else GITHUB_APP_PRIVATE_KEY, else the file at
    GITHUB_APP_PRIVATE_KEY_PATH."""
    app_id = (settings.github_app_id or "").strip()
    if not app_id:
        return None
    if private_key is None and settings.github_app_private_key is not None:
        private_key = settings.github_app_private_key.get_secret_value()
    if private_key is None and settings.github_app_private_key_path is not None:
        path = settings.github_app_private_key_path
        try:
            private_key = path.read_text()
        except OSError as error:
            raise ConfigError(
                f"GITHUB_APP_PRIVATE_KEY_PATH {path}: {error.strerror or error}"
            ) from None
    if not private_key or not private_key.strip():
        raise ConfigError(
            f"GitHub App {app_id} has no private key: set GITHUB_APP_PRIVATE_KEY (the PEM text) "
            "or GITHUB_APP_PRIVATE_KEY_PATH"
        )
    return AppKey(app_id, private_key.replace("\\n", "\n"))


def installation_ids(value: str | None) -> list[int] | None:
    """GITHUB_APP_INSTALLATION_IDS as numbers; None (unset): every installation."""
    entries = [entry.strip() for entry in (value or "").split(",") if entry.strip()]
    if not entries:
        return None
    bad = [entry for entry in entries if not entry.isdigit()]
    if bad:
        raise ConfigError(
            f"GITHUB_APP_INSTALLATION_IDS must be numbers, comma-separated: not {', '.join(bad)}"
        )
    return list(dict.fromkeys(int(entry) for entry in entries))


async def app_credentials(
    settings: Settings,
    *,
    private_key: str | None = None,
    clock: Callable[[], float] = time.time,
) -> list[InstallationToken]:
    """A credential per installation of the app in `settings` (none without an app)."""
    key = app_key(settings, private_key)
    if key is None:
        return []
    api = AppApi(settings.github_api_url, key, clock)
    return await installation_credentials(
        api, installation_ids(settings.github_app_installation_ids)
    )
