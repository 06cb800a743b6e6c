"""The fetchers get everything: nested overflow, check runs beyond their first pages, metadata
of many repositories in one request, an org's repositories; compared with the emulator's truth
(heavy PRs have more than 100 reviews, commits, files, labels or check runs)."""

from __future__ import annotations

import pytest

from ghsync.emulator import EmulatorConfig, started_emulator
from ghsync.errors import ConfigError
from ghsync.github.client import COST_LABEL, GitHubClient
from ghsync.github.fetch import (
    CheckRunBatches,
    PrPage,
    check_repos,
    complete_nested,
    fetch_pr_page,
    list_org_repos,
    next_sizes,
    validate_repo_names,
)
from ghsync.github.tokens import TokenPool
from ghsync.nodes import head_commit_id, items
from ghsync.tables import NESTED

TOKEN = "ghp_" + "n" * 36


async def test_nested_lists_and_check_runs_are_complete() -> None:
    config = EmulatorConfig(seed=1, repos=1, prs=30, tokens=(TOKEN,))
    async with started_emulator(config) as emu:
        async with GitHubClient(TokenPool([TOKEN]), emu.graphql_url) as client:
            page = await fetch_pr_page(client, "acme/repo-1", None, 30)
            follow_ups = await complete_nested(client, page.nodes)
            heads = {pr["number"]: head_commit_id(pr) for pr in page.nodes}
            checks = CheckRunBatches()
            checks.add(h for h in heads.values() if h)
            commits = await checks.fetch(client, everything=True)
        truth = {pr["number"]: pr for pr in emu.truth("acme/repo-1")["pullRequests"]}  # type: ignore[index]
    assert follow_ups >= 1
    assert sum(len(t["reviews"]) > 100 or len(t["files"]) > 100 for t in truth.values()) >= 1
    assert sum(len(t["checkRuns"]) > 100 for t in truth.values()) >= 1
    for pr in page.nodes:
        expected = truth[pr["number"]]
        for nested in NESTED:
            for owner in nested.owners(pr):
                connection = nested.read(owner)
                assert connection is not None, (pr["number"], nested.field)
                assert len(connection["nodes"]) == connection.get("totalCount"), nested.field
        assert [n["name"] for n in pr["labels"]["nodes"]] == expected["labels"]
        assert [r["fullDatabaseId"] for r in pr["reviews"]["nodes"]] == [
            str(r["databaseId"]) for r in expected["reviews"]
        ]
        assert [c["commit"]["oid"] for c in pr["commits"]["nodes"]] == [
            c["oid"] for c in expected["commits"]
        ]
        assert [f["path"] for f in pr["files"]["nodes"]] == [f["path"] for f in expected["files"]]
        commit = commits[heads[pr["number"]]]  # type: ignore[index]
        assert commit is not None
        runs = [
            run["databaseId"]
            for suite in commit["checkSuites"]["nodes"]
            for run in suite["checkRuns"]["nodes"]
        ]
        assert runs == [run["databaseId"] for run in expected["checkRuns"]], pr["number"]


async def test_a_head_commit_missing_from_the_commits_list_is_asked_by_pull_request_head() -> None:
    """GitHub lists at most 250 commits of a PR: a complete list may lack the head."""
    config = EmulatorConfig(seed=1, repos=1, prs=6, tokens=(TOKEN,), heavy_prs=False)
    async with started_emulator(config) as emu:
        async with GitHubClient(TokenPool([TOKEN]), emu.graphql_url) as client:
            page = await fetch_pr_page(client, "acme/repo-1", None, 6)
            found = {pr["number"]: head_commit_id(pr) for pr in page.nodes}
            cut = page.nodes[0]
            assert cut["commits"] is not None
            cut["commits"]["nodes"] = [
                c for c in cut["commits"]["nodes"] if c["commit"]["oid"] != cut["headRefOid"]
            ]
            assert head_commit_id(cut) is None
            requests = await complete_nested(client, page.nodes)
        stats = emu.stats()["counters"]
    assert requests == 1 and stats["op:PullRequestHead"] == 1
    assert {pr["number"]: head_commit_id(pr) for pr in page.nodes} == found


async def test_ci_across_pages_goes_in_full_requests_and_misses_nothing() -> None:
    """The sync's way: each page's head commits queued, whole requests sent (some ride in a
    page's completion), the rest after the last page: every run of every head commit."""
    config = EmulatorConfig(seed=3, repos=1, prs=120, tokens=(TOKEN,))
    async with started_emulator(config) as emu:
        async with GitHubClient(TokenPool([TOKEN]), emu.graphql_url) as client:
            checks, done, heads = CheckRunBatches(), {}, {}
            cursor, more = None, True
            while more:
                page = await fetch_pr_page(client, "acme/repo-1", cursor, 21)
                await complete_nested(client, page.nodes, checks)
                heads |= {pr["number"]: head_commit_id(pr) for pr in page.nodes}
                checks.add(h for h in map(head_commit_id, page.nodes) if h)
                cursor, more = page.end_cursor, page.has_next
                done |= await checks.fetch(client, everything=not more)
        truth = {pr["number"]: pr for pr in emu.truth("acme/repo-1")["pullRequests"]}  # type: ignore[index]
        counters = emu.stats()["counters"]
    assert set(done) == set(heads.values()) and not checks.fills_a_request()
    for number, head in heads.items():
        commit = done[head]  # type: ignore[index]
        assert commit is not None
        runs = [
            r["databaseId"] for s in items(commit["checkSuites"]) for r in items(s["checkRuns"])
        ]
        assert runs == [run["databaseId"] for run in truth[number]["checkRuns"]], number
    ci = {k: v for k, v in counters.items() if "Check" in k}
    suites = sum(len({r["app"] for r in pr["checkRuns"]}) for pr in truth.values())  # one an app
    # 120 commits and their suites (and a 150-run suite's second page), 149 items a request
    assert sum(ci.values()) <= -(-(120 + suites + 1) // 149) + 2, ci


async def test_a_list_that_overflowed_is_asked_100_long_on_the_next_pages() -> None:
    config = EmulatorConfig(seed=1, repos=1, prs=30, tokens=(TOKEN,))
    async with (
        started_emulator(config) as emu,
        GitHubClient(TokenPool([TOKEN]), emu.graphql_url) as client,
    ):
        first = await fetch_pr_page(client, "acme/repo-1", None, 30)
        raised = next_sizes((), first, 30)
        assert {"reviews", "commits", "labels"} <= set(raised)  # heavy PRs: > 20, 50, 20
        assert next_sizes(raised, first, 30) == raised
        again = await fetch_pr_page(client, "acme/repo-1", None, 30, raised)
    sizes = {
        flag: max(len(items(nested.read(pr))) for pr in again.nodes)
        for nested in NESTED
        if (flag := nested.flag) in raised
    }
    assert sizes["commits"] == 100 and sizes["reviews"] == 100  # 120 and 130 long: 100 asked
    shrunk = PrPage(first.nodes, None, False, 30, page_size=15)
    assert next_sizes(raised, shrunk, 30) == ()  # a page that timed out: back to small sizes


async def test_metadata_of_150_repositories_takes_two_requests_of_one_point() -> None:
    config = EmulatorConfig(seed=2, repos=148, prs=1, heavy_prs=False, tokens=(TOKEN,))
    async with started_emulator(config) as emu:
        names = [f"acme/repo-{i}" for i in range(1, 149)] + ["acme/empty", "acme/nope"]
        async with GitHubClient(TokenPool([TOKEN]), emu.graphql_url) as client:
            COST_LABEL.set("metadata")
            metas = await check_repos(client, names)
        stats = emu.stats()
    assert client.requests == {"metadata": 2}
    assert client.points == {"metadata": 2}
    assert stats["counters"]["graphql_requests"] == 2
    assert stats["points_total"] == 2
    assert metas["acme/nope"] is None
    empty = metas["acme/empty"]
    assert empty is not None and empty.pr_count == 0 and empty.newest_update is None
    one = metas["acme/repo-1"]
    assert one is not None and one.pr_count == 1 and one.newest_update is not None


async def test_org_listing_leaves_out_archived_repositories() -> None:
    config = EmulatorConfig(seed=2, repos=2, prs=1, heavy_prs=False, tokens=(TOKEN,))
    async with (
        started_emulator(config) as emu,
        GitHubClient(TokenPool([TOKEN]), emu.graphql_url) as client,
    ):
        assert await list_org_repos(client, "acme") == [
            "acme/empty",
            "acme/repo-1",
            "acme/repo-2",
        ]
        assert await list_org_repos(client, "acme-empty") == []


@pytest.mark.parametrize(
    "names",
    [["acme"], ["acme/"], ["/repo"], ["a/b/c"], ["acme/re po"], ["-acme/x"], ["acme/.."]],
    ids=["no-slash", "no-name", "no-owner", "two-slashes", "space", "dash-first", "dot-dot"],
)
def test_bad_repository_names_are_refused_together(names: list[str]) -> None:
    with pytest.raises(ConfigError) as error:
        validate_repo_names(["acme/fine", *names, "other/also-bad/x"])
    assert repr(names[0]) in str(error.value)
    assert "'other/also-bad/x'" in str(error.value)
    assert "acme/fine" not in str(error.value)


def test_good_names_are_kept_once_in_order() -> None:
    names = ["acme/repo-1", "Acme/Repo.js", "acme/repo-1", "a/b_c"]
    assert validate_repo_names(names) == ["acme/repo-1", "Acme/Repo.js", "a/b_c"]
