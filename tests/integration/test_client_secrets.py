"""No token string in logs (any logger, any level) or in the text of any error."""

from __future__ import annotations

import logging

import pytest

from ghsync.emulator import EmulatorConfig, FaultConfig, started_emulator
from ghsync.errors import GhsyncError
from ghsync.github.client import GitHubClient
from ghsync.github.tokens import TokenPool
from ghsync.log import mask_token

GOOD = "ghp_" + "s3cr3t" * 6
REVOKED = "ghp_" + "r3v0k3" * 6
UNKNOWN = "github_pat_" + "unkn0wn" * 8


async def test_no_token_appears_in_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    faults = FaultConfig(error_rate=0.3, drop_rate=0.2, revoke_after={REVOKED: 1})
    config = EmulatorConfig(seed=3, repos=1, prs=20, tokens=(GOOD, REVOKED), faults=faults)
    texts: list[str] = []
    async with started_emulator(config) as emu:
        pool = TokenPool([REVOKED, GOOD, UNKNOWN], max_wait=1)
        async with GitHubClient(pool, emu.graphql_url, max_attempts=2, retry_base=0.01) as client:
            await client.identify()
            texts.append(repr(pool))
            texts += [" ".join(status.cells()) for status in pool.statuses()]
            for variables in (
                {"owner": "acme", "name": "repo-1", "pageSize": 20},
                {"owner": "acme", "name": "nope", "pageSize": 20},
                {"owner": "acme", "name": "repo-1", "pageSize": 101},
            ):
                for _ in range(3):
                    try:
                        await client.execute("PullRequestPage", variables)
                    except GhsyncError as error:
                        texts += [str(error), repr(error), repr(error.args)]
            emu.set_token_budget(GOOD, remaining=0, reset_in=600)
            try:
                await client.execute("Viewer")
            except GhsyncError as error:
                texts += [str(error), repr(error)]
    texts += [record.getMessage() for record in caplog.records]
    texts += [caplog.text]
    assert len(texts) > 10
    assert any("ghp_…" in text for text in texts)  # masks are there, secrets are not
    for secret in (GOOD, REVOKED, UNKNOWN):
        for text in texts:
            assert secret not in text
            assert secret[-12:] not in text


async def test_a_log_line_with_a_token_comes_out_masked(caplog: pytest.LogCaptureFixture) -> None:
    """While a client is open, every log handler masks its pool's tokens, whoever logs them."""
    caplog.set_level(logging.INFO)
    pool = TokenPool([GOOD, UNKNOWN])
    async with GitHubClient(pool, "http://127.0.0.1:9/graphql"):
        logging.getLogger("somewhere.else").warning("sent %s and %s", GOOD, UNKNOWN)
    assert caplog.messages[0] == f"sent {mask_token(GOOD)} and {mask_token(UNKNOWN)}"
    assert GOOD not in caplog.text and UNKNOWN not in caplog.text
