"""Settings, read once from the environment at the edges (CLI, flows) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ghsync.errors import ConfigError

DEFAULT_GRAPHQL_URL = "https://api.github.com/graphql"
DEFAULT_API_URL = "https://api.github.com"
DEFAULT_DB = Path("warehouse/ghsync.duckdb")


class Settings(BaseSettings):
    """Environment contract (DESIGN.md): GITHUB_TOKENS, GITHUB_TOKEN, GITHUB_GRAPHQL_URL,
    GITHUB_API_URL, GHSYNC_DB. Tokens are SecretStr so a repr or log never shows them."""

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
    db_path: Path = Field(default=DEFAULT_DB, validation_alias=AliasChoices("GHSYNC_DB", "db_path"))


def check_sync_options(
    *,
    days_back: int | None,
    concurrency_per_token: int,
    page_size: int,
    ci_recheck_days: int,
    check_run_reserve: int = 0,
    max_wait_seconds: float = 0.0,
    checkpoint_ttl_hours: float = 1.0,
) -> None:
    """One ConfigError naming every sync option out of its range (a flow parameter or a CLI
    option; the CLI has no options for the last three): `concurrency_per_token` 0 waited
    forever, a negative `days_back` synced nothing."""
    rules = [
        ("days_back", days_back, days_back is None or days_back >= 1, "at least 1 (or none)"),
        ("concurrency_per_token", concurrency_per_token, concurrency_per_token >= 1, "at least 1"),
        ("page_size", page_size, 1 <= page_size <= 100, "1 to 100"),
        ("check_run_reserve", check_run_reserve, check_run_reserve >= 0, "at least 0"),
        ("max_wait_seconds", max_wait_seconds, max_wait_seconds >= 0, "at least 0"),
        ("checkpoint_ttl_hours", checkpoint_ttl_hours, checkpoint_ttl_hours > 0, "above 0"),
        ("ci_recheck_days", ci_recheck_days, ci_recheck_days >= 0, "at least 0"),
    ]
    bad = [f"{name} must be {allowed}, not {value}" for name, value, ok, allowed in rules if not ok]
    if bad:
        raise ConfigError("; ".join(bad))
