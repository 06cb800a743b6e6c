"""AI evidence: which rules of warehouse/ai_rules.csv fire on which PR and commit texts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ghsync.warehouse import Warehouse
from tests.unit.warehouse_rows import at, commit, page, pr

CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[str]]] = [
    # id, PR fields, commit fields, expected signals
    (
        "copilot-coauthor-noreply",
        {},
        {"message": "x\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>"},
        ["coauthor:Copilot"],
    ),
    (
        "cursor-coauthor-any-case",
        {},
        {"message": "x\n\nCO-AUTHORED-BY: Cursor Agent <cursoragent@cursor.com>\r\n"},
        ["coauthor:Cursor"],
    ),
    (
        "aider-coauthor",
        {},
        {"message": "Co-authored-by: aider <noreply@aider.chat>"},
        ["coauthor:Aider"],
    ),
    (
        "trailer-in-pr-body",
        {"body": "Squashed.\n\nCo-authored-by: Codex <codex@openai.com>"},
        {},
        ["coauthor:Codex"],
    ),
    (
        "address-mentioned-outside-a-trailer",
        {"body": "Mail noreply@anthropic.com about it"},
        {},
        [],
    ),
    ("human-coauthor", {}, {"message": "x\n\nCo-authored-by: Bob <bob@example.com>"}, []),
    (
        "coding-agent-pr-author",
        {"author_login": "Copilot", "author_type": "Bot"},
        {},
        ["author:Copilot"],
    ),
    ("bot-commit-author", {}, {"author_login": "devin-ai-integration[bot]"}, ["author:Devin"]),
    ("agent-login-as-substring", {"author_login": "not-copilot-swe-agent"}, {}, []),
    ("body-marker", {"body": "Generated with Claude Code"}, {}, ["marker:Claude"]),
    ("commit-marker", {}, {"message": "aider: fix the parser"}, ["marker:Aider"]),
    ("nothing", {"body": "Plain change."}, {"message": "Plain change."}, []),
]


@pytest.mark.parametrize(
    ("pr_fields", "commit_fields", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_ai_signals(
    tmp_path: Path, pr_fields: dict[str, Any], commit_fields: dict[str, Any], expected: list[str]
) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        warehouse.upsert_page(
            page([pr(1, **pr_fields)], commits=[commit(1, "c1", at(-1), **commit_fields)])
        )
        row = warehouse.query("SELECT ai_assisted, ai_signals FROM pr_metrics").to_dicts()[0]
    assert row == {"ai_assisted": bool(expected), "ai_signals": expected}


def test_rules_are_read_from_the_ai_rules_table(tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        warehouse.upsert_page(page([pr(1, body="Written by Zed's agent")]))
        warehouse.query("INSERT INTO ai_rules VALUES ('Zed', 'marker', 'zed''s agent', NULL)")
        assert warehouse.query("SELECT ai_signals FROM pr_metrics").item().to_list() == [
            "marker:Zed"
        ]
