"""The queries fetch everything: nested overflow via PullRequestNested, check runs via CheckRuns
and CheckRunsNested, compared with the emulator's ground truth (heavy PRs have > 100 items)."""

from __future__ import annotations

from typing import Any

from ghsync.emulator import EmulatorConfig, started_emulator
from ghsync.github.client import GitHubClient
from ghsync.github.tokens import TokenPool

TOKEN = "ghp_" + "n" * 36
FLAGS = {
    "labels": "labels",
    "assignees": "assignees",
    "closingIssuesReferences": "closingIssues",
    "reviewRequests": "reviewRequests",
    "reviews": "reviews",
    "commits": "commits",
    "files": "files",
}


async def complete_nested(client: GitHubClient, prs: list[dict[str, Any]]) -> int:
    """Follow every nested connection's overflow in batches; returns the requests made."""
    pending = [(pr, f) for pr in prs for f in FLAGS if pr[f]["pageInfo"]["hasNextPage"]]
    requests = 0
    while pending:
        items = [
            {"id": pr["id"], "after": pr[f]["pageInfo"]["endCursor"], FLAGS[f]: True}
            for pr, f in pending
        ]
        results = await client.execute_batch("PullRequestNested", items)
        requests += 1
        for (pr, f), result in zip(pending, results, strict=True):
            assert result is not None
            pr[f]["nodes"] += result[f]["nodes"]
            pr[f]["pageInfo"] = result[f]["pageInfo"]
        pending = [(pr, f) for pr, f in pending if pr[f]["pageInfo"]["hasNextPage"]]
    return requests


async def fetch_check_runs(client: GitHubClient, commit_ids: list[str]) -> dict[str, int]:
    """Check runs per head commit id, following suites and runs beyond their first page."""
    data = await client.execute("CheckRuns", {"ids": commit_ids})
    runs: dict[str, int] = {}
    pending: list[tuple[str, str, str]] = []  # (commit id, node id to follow, cursor)
    suites = [(c["id"], c["checkSuites"]) for c in data["nodes"]]
    while suites or pending:
        for commit_id, connection in suites:
            if connection["pageInfo"]["hasNextPage"]:
                pending.append((commit_id, commit_id, connection["pageInfo"]["endCursor"]))
            for suite in connection["nodes"]:
                page = suite["checkRuns"]
                runs[commit_id] = runs.get(commit_id, 0) + len(page["nodes"])
                if page["pageInfo"]["hasNextPage"]:
                    pending.append((commit_id, suite["id"], page["pageInfo"]["endCursor"]))
        suites = []
        if not pending:
            break
        items = [{"id": node, "after": cursor} for _, node, cursor in pending]
        results = await client.execute_batch("CheckRunsNested", items)
        follow, pending = pending, []
        for (commit_id, _, _), result in zip(follow, results, strict=True):
            assert result is not None
            if "checkSuites" in result:
                suites.append((commit_id, result["checkSuites"]))
            else:
                page = result["checkRuns"]
                runs[commit_id] = runs.get(commit_id, 0) + len(page["nodes"])
                if page["pageInfo"]["hasNextPage"]:
                    pending.append((commit_id, result["id"], page["pageInfo"]["endCursor"]))
    return runs


async def test_nested_lists_and_check_runs_are_complete() -> None:
    config = EmulatorConfig(seed=1, repos=1, prs=30, tokens=(TOKEN,))
    async with started_emulator(config) as emu:
        async with GitHubClient(TokenPool([TOKEN]), emu.graphql_url) as client:
            variables = {"owner": "acme", "name": "repo-1", "pageSize": 30}
            data = await client.execute("PullRequestPage", variables)
            prs = data["repository"]["pullRequests"]["nodes"]
            follow_ups = await complete_nested(client, prs)
            heads = {pr["number"]: pr["headCommit"]["nodes"][0]["commit"]["id"] for pr in prs}
            runs = await fetch_check_runs(client, list(heads.values()))
        truth = {pr["number"]: pr for pr in emu.truth("acme/repo-1")["pullRequests"]}  # type: ignore[index]
    assert follow_ups >= 1
    assert sum(len(t["reviews"]) > 100 or len(t["files"]) > 100 for t in truth.values()) >= 1
    for pr in prs:
        expected = truth[pr["number"]]
        for field in FLAGS:
            assert len(pr[field]["nodes"]) == pr[field]["totalCount"], (pr["number"], field)
        assert [n["name"] for n in pr["labels"]["nodes"]] == expected["labels"]
        assert len(pr["reviews"]["nodes"]) == len(expected["reviews"])
        assert [c["commit"]["oid"] for c in pr["commits"]["nodes"]] == [
            c["oid"] for c in expected["commits"]
        ]
        assert [f["path"] for f in pr["files"]["nodes"]] == [f["path"] for f in expected["files"]]
        assert runs.get(heads[pr["number"]], 0) == len(expected["checkRuns"]), pr["number"]
