"""The dataset, activity between syncs, and the ground-truth dump."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ghsync.emulator import ACTIONS, Emulator, EmulatorConfig, running_emulator
from ghsync.emulator.dataset import build_world
from ghsync.emulator.truth import summary
from tests.emulator_process import emulator_process
from tests.integration.emulator.conftest import TOKEN, graphql, http

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_same_seed_same_dataset_other_seed_other_dataset() -> None:
    def fingerprint(seed: int) -> object:
        world = build_world(EmulatorConfig(seed=seed, repos=2, prs=40, now=NOW))
        return summary(world), [pr["title"] for pr in world.repos["acme/repo-1"]["pullRequests"]]

    assert fingerprint(1) == fingerprint(1)
    assert fingerprint(1) != fingerprint(2)


def test_dataset_has_what_a_sync_must_handle() -> None:
    world = build_world(EmulatorConfig(seed=4, repos=2, prs=60, now=NOW))
    repos = {row["repo"]: row for row in summary(world)["repositories"]}
    assert repos["acme/empty"]["pullRequests"] == 0
    assert world.repos["acme/archived"]["isArchived"]
    assert repos["acme/repo-1"]["over100"] >= 5
    prs = [pr for repo in world.repos.values() for pr in repo["pullRequests"]]
    states = {pr["state"] for pr in prs}
    assert states == {"OPEN", "CLOSED", "MERGED"}
    assert any(pr["isDraft"] for pr in prs)
    assert any(
        pr["author"]["login"] == "dependabot" and pr["author"]["__typename"] == "Bot" for pr in prs
    )
    messages = [c["commit"]["message"] for pr in prs for c in pr["commits"]]
    assert any("Co-authored-by: Claude" in m for m in messages)
    assert any("Co-authored-by: dev-" in m for m in messages)
    assert any("Generated with [Claude Code]" in pr["body"] for pr in prs)
    for pr in prs:
        assert pr["createdAt"] <= pr["updatedAt"] <= "2026-06-01T00:00:00Z"
        if pr["state"] == "MERGED":
            assert pr["mergedAt"] == pr["closedAt"] and pr["createdAt"] <= pr["mergedAt"]
        else:
            assert pr["mergedAt"] is None
        assert pr["changedFiles"] == len(pr["files"])
        assert pr["headRefOid"] == pr["commits"][-1]["commit"]["oid"]
    runs = [
        run
        for pr in prs
        for suite in pr["commits"][-1]["commit"]["checkSuites"]
        for run in suite["checkRuns"]
    ]
    assert {run["conclusion"] for run in runs} >= {"SUCCESS", "FAILURE"}
    assert len({run["checkSuite"]["app"]["slug"] for run in runs}) >= 2
    assert any(pr["commits"][-1]["commit"]["status"] for pr in prs)


def test_activity_changes_truth_and_moves_updated_at(fresh: Emulator) -> None:
    before = {pr["number"]: pr for pr in fresh.truth("acme/repo-1")["pullRequests"]}
    open_pr = next(n for n, pr in before.items() if pr["state"] == "OPEN")
    reviewed = fresh.activity("add_review", "acme/repo-1", open_pr)
    fresh.activity("add_commit", "acme/repo-1", open_pr)
    fresh.activity("rerun_checks", "acme/repo-1", open_pr)
    merged = fresh.activity("merge", "acme/repo-1", open_pr)
    created = fresh.activity("open", "acme/repo-1")
    after = {pr["number"]: pr for pr in fresh.truth("acme/repo-1")["pullRequests"]}
    pr = after[open_pr]
    assert len(pr["reviews"]) == len(before[open_pr]["reviews"]) + 1
    assert len(pr["commits"]) == len(before[open_pr]["commits"]) + 1
    assert pr["headRefOid"] != before[open_pr]["headRefOid"]
    assert pr["state"] == merged["state"] == "MERGED"
    assert pr["updatedAt"] >= reviewed["updatedAt"] > before[open_pr]["updatedAt"]
    assert created["number"] not in before and after[created["number"]]["state"] == "OPEN"
    newest = graphql(
        fresh,
        """{ repository(owner: "acme", name: "repo-1") {
      pullRequests(first: 2, orderBy: {field: UPDATED_AT, direction: DESC}) {
      nodes { number } } } }""",
    ).json()["data"]["repository"]["pullRequests"]["nodes"]
    assert {n["number"] for n in newest} == {open_pr, created["number"]}


def test_label_and_file_removal_and_admin_http(fresh: Emulator) -> None:
    truth = {pr["number"]: pr for pr in fresh.truth("acme/repo-1")["pullRequests"]}
    number = next(n for n, pr in truth.items() if pr["labels"] and len(pr["files"]) > 1)
    answer = http(
        f"{fresh.url}/_emulator/activity",
        {"repo": "acme/repo-1", "action": "remove_label", "number": number},
    )
    assert answer.status == 200
    http(
        f"{fresh.url}/_emulator/activity",
        {"repo": "acme/repo-1", "action": "remove_file", "number": number},
    )
    after = http(f"{fresh.url}/_emulator/truth/acme/repo-1").json()
    pr = next(p for p in after["pullRequests"] if p["number"] == number)
    assert pr["labels"] == truth[number]["labels"][1:]
    assert pr["files"] == truth[number]["files"][1:]
    assert pr["changedFiles"] == len(pr["files"])
    refused = http(f"{fresh.url}/_emulator/activity", {"repo": "acme/repo-1", "action": "explode"})
    assert refused.status == 422 and "touch" in refused.json()["message"]
    assert set(ACTIONS) >= {"touch", "add_review", "open", "merge", "close", "rerun_checks"}
    assert http(f"{fresh.url}/_emulator/truth/acme/nope").status == 404


def test_serve_command_answers_over_http() -> None:
    """`ghsync emulator serve` as a user starts it: a process on a port."""
    arguments = [
        "--seed",
        "9",
        "--repos",
        "2",
        "--prs",
        "15",
        "--tokens",
        f"{TOKEN},ghp_{'c' * 36}=carol",
        "--faults",
        json.dumps({"revoke_after": {TOKEN: 1}}),
    ]
    with emulator_process(*arguments) as served:
        assert served.url.startswith("http://127.0.0.1:")
        assert "4 repositories, 35 pull requests, 2 tokens" in served.banner
        assert TOKEN not in served.banner
        query = {"query": "{ viewer { login } }"}
        answer = http(f"{served.url}/graphql", query, token=f"ghp_{'c' * 36}")
        assert answer.json() == {"data": {"viewer": {"login": "carol"}}}
        revoked = [http(f"{served.url}/graphql", query).status for _ in range(2)]
        assert revoked == [200, 401]  # --faults applied from the start
    assert served.process.returncode == 0  # SIGINT stops it cleanly


def test_in_process_server_stops_and_frees_its_port() -> None:
    with running_emulator(EmulatorConfig(repos=1, prs=12)) as emulator:
        url = emulator.url
    try:
        http(f"{url}/rate_limit")
    except OSError:
        return
    raise AssertionError("the emulator still answers after it stopped")
