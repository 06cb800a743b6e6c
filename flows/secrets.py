"""Tokens from a Prefect Secret block (the deployments', `ghsync sync --token-secret`)."""

from __future__ import annotations

from prefect.blocks.system import Secret
from prefect.exceptions import ObjectNotFound

from ghsync import ConfigError, parse_tokens


async def secret_tokens(name: str) -> list[str]:
    """The comma-separated tokens of the Secret block `name`; ConfigError when there is none."""
    try:
        secret: Secret[str] = await Secret.aload(name)
    except ValueError as error:  # Prefect says "Unable to find block document named ..."
        if not isinstance(error.__cause__, ObjectNotFound):
            raise
        raise ConfigError(
            f"no Prefect Secret block named {name!r} on this Prefect server: create it (README, "
            "'Run it with Prefect') or name another with --token-secret"
        ) from error
    return parse_tokens(str(secret.get()), None)
