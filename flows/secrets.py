"""Secrets from Prefect Secret blocks: the tokens (the deployments', `ghsync sync
--token-secret`) and a GitHub App's private key (`app_key_secret`)."""

from __future__ import annotations

from prefect.blocks.system import Secret
from prefect.exceptions import ObjectNotFound

from ghsync import ConfigError, parse_tokens


async def secret_value(name: str, option: str) -> str:
    """The value of the Secret block `name`; ConfigError when there is none (`option` names
    the setting that chose it)."""
    try:
        secret: Secret[str] = await Secret.aload(name)
    except ValueError as error:  # Prefect says "Unable to find block document named ..."
        if not isinstance(error.__cause__, ObjectNotFound):
            raise
        raise ConfigError(
            f"no Prefect Secret block named {name!r} on this Prefect server: create it (README, "
            f"'Run it with Prefect') or name another with {option}"
        ) from error
    return str(secret.get())


async def secret_tokens(name: str) -> list[str]:
    """The comma-separated tokens of the Secret block `name`."""
    return parse_tokens(await secret_value(name, "--token-secret"), None)
