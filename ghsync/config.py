"""Settings, read once from the environment at the edges (CLI, flows) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
