"""The FACTS.md PR-page query answers the right data, not only the right cost."""

from __future__ import annotations

from ghsync.emulator import Emulator
from tests.integration.emulator.conftest import graphql, sample


def test_pr_page_data_equals_the_truth(emulator: Emulator) -> None:
    truth = emulator.truth("acme/repo-1")["pullRequests"]
    newest = sorted(truth, key=lambda pr: (pr["updatedAt"], pr["id"]), reverse=True)[:50]
    body = graphql(
        emulator, sample("pr_page"), {"owner": "acme", "name": "repo-1", "first": 50}
    ).json()
    page = body["data"]["repository"]["pullRequests"]
    assert page["totalCount"] == len(truth) == 60
    assert page["pageInfo"]["hasNextPage"] is True
    for node, expected in zip(page["nodes"], newest, strict=True):
        assert node["number"] == expected["number"]
        assert node["id"] == expected["id"]
        assert node["state"] == expected["state"]
        assert node["updatedAt"] == expected["updatedAt"]
        assert node["author"]["login"] == expected["author"]
        nested = {
            "labels": [n["name"] for n in node["labels"]["nodes"]],
            "assignees": [n["login"] for n in node["assignees"]["nodes"]],
            "linkedIssues": [n["number"] for n in node["closingIssuesReferences"]["nodes"]],
            "reviews": [n["submittedAt"] for n in node["reviews"]["nodes"]],
            "commits": [n["commit"]["oid"] for n in node["commits"]["nodes"]],
            "files": [n["path"] for n in node["files"]["nodes"]],
        }
        complete = {
            "labels": expected["labels"],
            "assignees": expected["assignees"],
            "linkedIssues": expected["linkedIssues"],
            "reviews": [r["submittedAt"] for r in expected["reviews"]],
            "commits": [c["oid"] for c in expected["commits"]],
            "files": [f["path"] for f in expected["files"]],
        }
        sizes = {
            "labels": 20,
            "assignees": 10,
            "linkedIssues": 10,
            "reviews": 20,
            "commits": 50,
            "files": 100,
        }
        for key, values in nested.items():
            assert values == complete[key][: sizes[key]], (expected["number"], key)
        assert node["files"]["totalCount"] == len(expected["files"])
        assert node["reviews"]["totalCount"] == len(expected["reviews"])
