"""Issue 3's measurement: points and requests to page through a 500-PR repo, 1 vs 3 tokens.

Run with `-s` to see the numbers: `.venv/bin/pytest tests/integration/test_client_measure.py -s`.
"""

from __future__ import annotations

import pytest

from ghsync.emulator import EmulatorConfig, started_emulator
from ghsync.github.client import GitHubClient
from ghsync.github.tokens import TokenPool

TOKENS = ["ghp_" + c * 36 for c in "abc"]
PAGE_SIZE = 50


@pytest.mark.parametrize("count", [1, 3], ids=["1-token", "3-tokens"])
async def test_paging_a_500_pr_repo_costs_4_points_per_page_of_50(count: int) -> None:
    tokens = TOKENS[:count]
    config = EmulatorConfig(seed=1, repos=1, prs=500, tokens=tuple(tokens))
    async with started_emulator(config) as emu:
        async with GitHubClient(TokenPool(tokens), emu.graphql_url) as client:
            cursor, numbers, reported = None, [], 0
            while True:
                variables = {"owner": "acme", "name": "repo-1", "cursor": cursor}
                data, _ = await client.execute_page("PullRequestPage", variables, PAGE_SIZE)
                reported += data["rateLimit"]["cost"]
                connection = data["repository"]["pullRequests"]
                numbers += [node["number"] for node in connection["nodes"]]
                if not connection["pageInfo"]["hasNextPage"]:
                    break
                cursor = connection["pageInfo"]["endCursor"]
        stats = emu.stats()
    print(
        f"\n{count} token(s): {stats['counters']['requests']} requests, "
        f"{stats['points_total']} points, per token {stats['points']}"
    )
    assert sorted(numbers) == list(range(1, 501))
    assert stats["counters"]["requests"] == 10
    assert stats["points_total"] == reported == 40
    assert len(stats["points"]) == count
    assert max(stats["points"].values()) <= 40 // count + 4  # spread over the tokens
