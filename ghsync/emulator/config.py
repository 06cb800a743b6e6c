"""Configuration of the emulator: the dataset it serves, its accounts, limits and faults."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, Literal

from ghsync.emulator.apps import AppConfig

TimeoutBody = Literal["json", "html", "mixed"]


@dataclass(frozen=True)
class FaultConfig:
    """Faults to inject; every field can change at run time (`Emulator.set_faults`).

    Random choices come from one generator seeded by `EmulatorConfig.seed`, so a run with the
    same seed and the same request order sees the same faults.
    """

    latency_ms: float = 0.0
    """Added to every answer."""
    latency_per_node_ms: float = 0.0
    """Added per node actually returned (GitHub's time grows with the work)."""
    timeout_node_threshold: int | None = None
    """Queries whose worst-case nodeCount exceeds this answer 502 (GitHub's 10 s timeout)."""
    timeout_body: TimeoutBody = "mixed"
    """502 body: JSON 'Something went wrong ... timeout', GitHub's HTML page, or alternating."""
    resource_limit_node_threshold: int | None = None
    """Queries whose worst-case nodeCount exceeds this answer 200 with partial data (a few
    connections null, each with a RESOURCE_LIMITS_EXCEEDED error): GitHub's resource limits."""
    error_rate: float = 0.0
    """Share of requests answered by a random 500, 502 or 503."""
    drop_rate: float = 0.0
    """Share of requests whose connection is closed without an answer."""
    secondary_rate: float = 0.0
    """Share of requests answered by a secondary limit (403 or 429, retry-after)."""
    secondary_retry_after: int = 60
    """retry-after seconds sent with secondary-limit answers."""
    revoke_after: dict[str, int] = field(default_factory=dict)
    """token -> number of its requests after which it answers 401 Bad credentials."""
    uninstall_after: dict[int, int] = field(default_factory=dict)
    """app installation id -> number of its tokens' requests after which it is uninstalled
    (its tokens answer 401, minting one answers 404)."""
    denied_repos: dict[str, str] = field(default_factory=dict)
    """`owner/name` -> NOT_FOUND (invisible to the token), FORBIDDEN (an App token without
    access) or INSUFFICIENT_SCOPES: `repository` answers null with that error."""

    def merged(self, changes: dict[str, Any]) -> FaultConfig:
        """A copy with `changes` applied; unknown keys are an error."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        return replace(self, **changes)


@dataclass(frozen=True)
class EmulatorConfig:
    """What the emulator serves.

    `tokens` entries are `TOKEN` or `TOKEN=LOGIN`; tokens naming the same login belong to one
    account and share its primary budget and secondary limits, as on GitHub. A token without a
    login gets its own account `viewer-N`.
    """

    seed: int = 1
    org: str = "acme"
    repos: int = 3
    """Regular repositories with PRs; an empty and an archived repository are always added."""
    prs: int = 50
    """Pull requests per regular repository."""
    heavy_prs: bool = True
    """Give some PRs more than 100 reviews, commits, files, labels or check runs."""
    tokens: tuple[str, ...] = ("ghp_" + "a" * 36,)
    points_per_hour: int = 5000
    """Primary budget per account."""
    reset_seconds: float = 3600.0
    """Length of the primary-limit window."""
    max_concurrent_per_account: int = 100
    points_per_minute_per_account: int = 2000
    apps: tuple[AppConfig, ...] = ()
    """GitHub Apps and their installations (each installation an account of its own)."""
    installation_token_seconds: float = 3600.0
    """How long an installation token works (an hour on GitHub; seconds in tests)."""
    now: datetime | None = None
    """Anchor of the generated timeline (default: the current time)."""
    faults: FaultConfig = field(default_factory=FaultConfig)
    webhook_url: str | None = None
    """An organization webhook: each activity POSTs GitHub's deliveries here (none if None)."""
    webhook_secret: str | None = None
    """The hook's secret: deliveries are signed (`X-Hub-Signature-256`) only with one."""
    webhook_fork_heads: bool = False
    """PR heads are in forks: check runs and suites then list no `pull_requests`, as on GitHub."""
    webhook_timeout: float = 10.0
    """Seconds the receiver has to answer (GitHub's 10 s), then the delivery counts as failed."""

    def anchor(self) -> datetime:
        """The dataset's 'now', whole seconds, UTC."""
        return (self.now or datetime.now(UTC)).replace(microsecond=0)

    def accounts(self) -> dict[str, str]:
        """token -> account login."""
        result: dict[str, str] = {}
        for index, entry in enumerate(self.tokens, start=1):
            token, _, login = entry.partition("=")
            token = token.strip()
            if token:
                result[token] = login.strip() or f"viewer-{index}"
        return result
