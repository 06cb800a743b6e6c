"""Injected faults: timeouts and resource limits on heavy queries, random 5xx, dropped
connections, latency."""

from __future__ import annotations

import socket
import time
import urllib.error
from typing import Any

import pytest

from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig, running_emulator
from tests.integration.emulator.conftest import graphql, http, sample

PAGE = {"owner": "acme", "name": "repo-1"}


def test_heavy_query_times_out_with_json_and_html_bodies(fresh: Emulator) -> None:
    fresh.set_faults(timeout_node_threshold=6000, timeout_body="mixed")
    heavy = [graphql(fresh, sample("pr_page"), {**PAGE, "first": 50}) for _ in range(2)]
    assert [a.status for a in heavy] == [502, 502]
    bodies = sorted(a.text for a in heavy)
    assert "Something went wrong while executing your query" in bodies[1]
    assert "We couldn't respond to your request in time" in bodies[0]
    assert fresh.stats()["points_total"] == 8  # timeouts still cost points
    light = graphql(fresh, sample("pr_page"), {**PAGE, "first": 25})  # 5,525 nodes
    assert light.status == 200


def _at(data: Any, path: list[str | int]) -> Any:
    """The value at an error's path; None as soon as a step is null."""
    for step in path:
        if data is None:
            return None
        data = data[step]
    return data


def test_over_the_resource_limit_answers_200_with_partial_data_and_costs_points(
    fresh: Emulator,
) -> None:
    whole = graphql(fresh, sample("pr_page"), {**PAGE, "first": 6}).json()["data"]  # 1,326 nodes
    set_faults = http(f"{fresh.url}/_emulator/faults", {"resource_limit_node_threshold": 1000})
    assert set_faults.json()["resource_limit_node_threshold"] == 1000
    fresh.reset_stats()
    answer = graphql(fresh, sample("pr_page"), {**PAGE, "first": 6})
    assert answer.status == 200
    data, errors = answer.json()["data"], answer.json()["errors"]
    assert {(e["type"], e["message"]) for e in errors} == {
        ("RESOURCE_LIMITS_EXCEEDED", "Resource limits for this query exceeded.")
    }
    assert all(_at(data, e["path"]) is None for e in errors)  # GitHub gave up there
    prs, whole_prs = (d["repository"]["pullRequests"]["nodes"] for d in (data, whole))
    assert len(prs) == len(whole_prs) == 6 and prs != whole_prs
    assert sum(pr == whole_pr for pr, whole_pr in zip(prs, whole_prs, strict=True)) >= 3
    stats = fresh.stats()
    assert stats["counters"]["resource_limited"] == 1
    assert stats["points_total"] == data["rateLimit"]["cost"] == 1  # charged as any answer
    light = graphql(fresh, sample("pr_page"), {**PAGE, "first": 3}).json()  # 663 nodes
    assert "errors" not in light
    assert light["data"]["repository"]["pullRequests"]["nodes"] == whole_prs[:3]


def test_error_rate_answers_500_502_503(fresh: Emulator) -> None:
    fresh.set_faults(error_rate=1.0)
    statuses = {graphql(fresh, "{ viewer { login } }").status for _ in range(20)}
    assert statuses <= {500, 502, 503}
    assert len(statuses) >= 2


def test_dropped_connection_gives_no_answer(fresh: Emulator) -> None:
    fresh.set_faults(drop_rate=1.0)
    with pytest.raises((urllib.error.URLError, ConnectionError, socket.error)):
        graphql(fresh, "{ viewer { login } }")
    assert fresh.stats()["counters"]["dropped"] == 1


def test_latency_base_and_per_node(fresh: Emulator) -> None:
    fresh.set_faults(latency_ms=150, latency_per_node_ms=0.1)
    started = time.perf_counter()
    graphql(fresh, sample("pr_page"), {**PAGE, "first": 25})
    assert time.perf_counter() - started >= 0.15 + 0.1 * 25 / 1000


def test_faults_are_deterministic_for_a_seed() -> None:
    def statuses(seed: int) -> list[int]:
        config = EmulatorConfig(seed=seed, repos=1, prs=12, faults=FaultConfig(error_rate=0.5))
        with running_emulator(config) as emulator:
            return [graphql(emulator, "{ viewer { login } }").status for _ in range(30)]

    assert statuses(11) == statuses(11)
    assert statuses(11) != statuses(12)


def test_unknown_fault_setting_is_refused(fresh: Emulator) -> None:
    with pytest.raises(ValueError, match="unknown fault settings"):
        fresh.set_faults(lightning=1.0)
