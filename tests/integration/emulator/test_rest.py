"""REST: /rate_limit and a commit's check runs with Link pagination, also under /api/v3."""

from __future__ import annotations

import re

import pytest

from ghsync.emulator import Emulator
from tests.integration.emulator.conftest import OTHER, TOKEN, graphql, http


def heavy_check_commit(emulator: Emulator) -> tuple[str, list[dict[str, object]]]:
    """PR #10 of a regular repo has a matrix of 150+ check runs on its head commit."""
    truth = {pr["number"]: pr for pr in emulator.truth("acme/repo-1")["pullRequests"]}
    return truth[10]["headRefOid"], truth[10]["checkRuns"]


@pytest.mark.parametrize("prefix", ["", "/api/v3"], ids=["github.com", "ghes"])
def test_check_runs_walk_by_link_header(emulator: Emulator, prefix: str) -> None:
    sha, runs = heavy_check_commit(emulator)
    url = (
        f"{emulator.url}{prefix}/repos/acme/repo-1/commits/{sha}/check-runs?per_page=100&filter=all"
    )
    seen: list[int] = []
    pages = 0
    while url:
        answer = http(url)
        assert answer.status == 200
        assert answer.headers["x-ratelimit-resource"] == "core"
        body = answer.json()
        assert body["total_count"] == len(runs)
        seen += [run["id"] for run in body["check_runs"]]
        match = re.search(r'<([^>]+)>; rel="next"', answer.headers.get("link", ""))
        url = match.group(1) if match else ""
        pages += 1
    assert seen == [run["databaseId"] for run in runs]
    assert pages == -(-len(runs) // 100) >= 2


def test_check_runs_default_to_latest_per_name(emulator: Emulator) -> None:
    """Flaky re-runs: `filter=latest` (the default) keeps one run per name and suite."""
    for pr in emulator.truth("acme/repo-1")["pullRequests"]:
        names = [(run["app"], run["name"]) for run in pr["checkRuns"]]
        if len(names) != len(set(names)):
            break
    else:
        pytest.fail("the dataset has no re-run check")
    url = f"{emulator.url}/repos/acme/repo-1/commits/{pr['headRefOid']}/check-runs?per_page=100"
    latest = http(url).json()
    assert latest["total_count"] == len(set(names)) < len(names)


def test_check_runs_of_unknown_repo_or_sha(emulator: Emulator) -> None:
    assert http(f"{emulator.url}/repos/acme/nope/commits/abc/check-runs").status == 404
    answer = http(f"{emulator.url}/repos/acme/repo-1/commits/{'0' * 40}/check-runs")
    assert answer.status == 422
    assert "No commit found for SHA" in answer.json()["message"]


def test_rate_limit_endpoint_reports_both_resources_for_free(fresh: Emulator) -> None:
    graphql(fresh, "{ viewer { login } }")
    body = http(f"{fresh.url}/rate_limit").json()
    assert body["resources"]["graphql"]["used"] == 1
    assert body["resources"]["core"]["used"] == 0
    assert body["rate"] == body["resources"]["core"]
    assert (
        http(f"{fresh.url}/api/v3/rate_limit", token=OTHER).json()["resources"]["graphql"]["used"]
        == 0
    )
    assert http(f"{fresh.url}/rate_limit", token="ghp_" + "q" * 36).status == 401
    assert TOKEN not in str(fresh.stats())  # stats name tokens, never show them


def test_ghes_graphql_path(emulator: Emulator) -> None:
    answer = http(f"{emulator.url}/api/graphql", {"query": "{ viewer { login } }"})
    assert answer.json() == {"data": {"viewer": {"login": "viewer-1"}}}
