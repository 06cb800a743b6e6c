"""Freeing the token slots a SIGKILLed sync left taken, as an operator would.

A slot's lease expires 60 s after its holder died, but only on a server that runs Prefect's
lease repossessor (`prefect server start`). The test harness's server runs no such service, and
is a configured server to ghsync (PREFECT_API_URL is set), which frees a killed run's slots by
itself only on a temporary server it starts (scenario 7 tests that). Deleting the limits
(`prefect gcl delete ghsync-token-<fingerprint>`) frees them; the next run creates them again.
"""

from __future__ import annotations

from collections.abc import Iterable

from prefect.client.orchestration import get_client

from flows.runtime import token_limit_name
from ghsync.log import token_fingerprint


def free_token_slots(tokens: Iterable[str]) -> None:
    """Delete the concurrency limits of `tokens` on the current Prefect API."""
    with get_client(sync_client=True) as client:
        for token in tokens:
            client.delete_global_concurrency_limit_by_name(
                token_limit_name(token_fingerprint(token))
            )
