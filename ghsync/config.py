"""Settings, read once from the environment at the edges (CLI, flows) and passed down; a
run's sync options, checked once where they are given (CLI options, flow parameters)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ghsync.errors import ConfigError
from ghsync.github.plan import PR_PAGE_SIZE
from ghsync.lake import Location, parse_location

DEFAULT_GRAPHQL_URL = "https://api.github.com/graphql"
DEFAULT_API_URL = "https://api.github.com"
DEFAULT_DB = Path("warehouse/ghsync.duckdb")


class Settings(BaseSettings):
    """Environment contract (DESIGN.md): GITHUB_TOKENS, GITHUB_TOKEN, GITHUB_GRAPHQL_URL,
    GITHUB_API_URL, GHSYNC_DB, and a GitHub App's GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY (or
    GITHUB_APP_PRIVATE_KEY_PATH), GITHUB_APP_INSTALLATION_IDS; GITHUB_WEBHOOK_SECRET;
    GHSYNC_REPORT. Tokens, the key and the secret are SecretStr so a repr or log never shows
    them."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    github_tokens: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GITHUB_TOKENS", "github_tokens")
    )
    github_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GITHUB_TOKEN", "github_token")
    )
    github_graphql_url: str = Field(
        default=DEFAULT_GRAPHQL_URL,
        validation_alias=AliasChoices("GITHUB_GRAPHQL_URL", "github_graphql_url"),
    )
    github_api_url: str = Field(
        default=DEFAULT_API_URL, validation_alias=AliasChoices("GITHUB_API_URL", "github_api_url")
    )
    db: str = Field(default=str(DEFAULT_DB), validation_alias=AliasChoices("GHSYNC_DB", "db"))
    """A DuckDB file's path, or a DuckLake location (ghsync/lake.py)."""
    github_app_id: str | None = Field(
        default=None, validation_alias=AliasChoices("GITHUB_APP_ID", "github_app_id")
    )
    """A GitHub App's id or client id: its installations join the token pool."""
    github_app_private_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("GITHUB_APP_PRIVATE_KEY", "github_app_private_key"),
    )
    github_app_private_key_path: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("GITHUB_APP_PRIVATE_KEY_PATH", "github_app_private_key_path"),
    )
    github_app_installation_ids: str | None = Field(
        default=None,
        validation_alias=AliasChoices("GITHUB_APP_INSTALLATION_IDS", "github_app_installation_ids"),
    )
    """Comma-separated; unset: every installation of the app."""
    github_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("GITHUB_WEBHOOK_SECRET", "github_webhook_secret"),
    )
    """The secret GitHub signs webhook deliveries with (`ghsync webhook serve`)."""
    report: Path | None = Field(
        default=None, validation_alias=AliasChoices("GHSYNC_REPORT", "report")
    )
    """Where a sync writes the HTML report (`ghsync report`'s page) after it ends; unset: none."""

    @property
    def location(self) -> Location:
        """The warehouse GHSYNC_DB names: a DuckDB file or a DuckLake."""
        return parse_location(self.db)


@dataclass(frozen=True)
class SyncOptions:
    """How a run syncs (the flow's parameters but its targets, store and token source), checked
    on construction: one ConfigError naming every option out of its range
    (`concurrency_per_token` 0 waited forever, a negative `days_back` synced nothing). The
    defaults are the flow's and the CLI's."""

    days_back: int | None = 30
    """Depth of a repository's first sync, in days (None: everything)."""
    full: bool = False
    """Re-fetch everything, whatever the watermark (a repair)."""
    page_size: int = PR_PAGE_SIZE
    """PRs per page: the most that cost 1 point (21), unless a page timed out."""
    check_run_reserve: int = 100
    """Defer check runs when every account has fewer points left than this (a token reports
    its account's points: the tokens of one account share one budget)."""
    concurrency_per_token: int = 3
    max_wait_seconds: float = 900.0
    """The longest wait for a token's reset when every token is exhausted."""
    checkpoint_ttl_hours: float = 24.0
    checkpoints: bool = True
    """Persist fetched pages (checkpoints) under PREFECT_HOME."""
    ci_recheck_days: int = 3
    """Re-poll the CI of open PRs updated this many days back (0: only unsettled CI)."""

    def __post_init__(self) -> None:
        rules = {
            "days_back": (self.days_back is None or self.days_back >= 1, "at least 1 (or none)"),
            "concurrency_per_token": (self.concurrency_per_token >= 1, "at least 1"),
            "page_size": (1 <= self.page_size <= 100, "1 to 100"),
            "check_run_reserve": (self.check_run_reserve >= 0, "at least 0"),
            "max_wait_seconds": (self.max_wait_seconds >= 0, "at least 0"),
            "checkpoint_ttl_hours": (self.checkpoint_ttl_hours > 0, "above 0"),
            "ci_recheck_days": (self.ci_recheck_days >= 0, "at least 0"),
        }
        bad = [
            f"{name} must be {allowed}, not {getattr(self, name)}"
            for name, (ok, allowed) in rules.items()
            if not ok
        ]
        if bad:
            raise ConfigError("; ".join(bad))

    @property
    def checkpoint_ttl(self) -> timedelta | None:
        """How long a fetched page is kept for a re-run of its session (None: not kept)."""
        return timedelta(hours=self.checkpoint_ttl_hours) if self.checkpoints else None


DEFAULT_OPTIONS = SyncOptions()
