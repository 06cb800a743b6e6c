"""`ghsync tokens` against the emulator: tokens grouped by account, shared budgets said so."""

from __future__ import annotations

from typer.testing import CliRunner

from ghsync.cli import app
from ghsync.emulator import EmulatorConfig, running_emulator

A, B, C = (f"ghp_{c * 36}" for c in "xyz")


def test_tokens_of_one_account_are_listed_as_one_budget() -> None:
    config = EmulatorConfig(seed=1, repos=1, prs=5, tokens=(f"{A}=alice", C, f"{B}=alice"))
    with running_emulator(config) as emulator:
        env = {"GITHUB_TOKENS": f"{A},{C},{B}", "GITHUB_TOKEN": None}
        env["GITHUB_GRAPHQL_URL"] = emulator.graphql_url
        result = CliRunner().invoke(app, ["tokens"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[:3] for line in lines[:2]] == [
        ["ghp_…xxxx", "alice", "4998/5000"],  # one budget: both tokens' Viewer points
        ["ghp_…yyyy", "alice", "4998/5000"],
    ]
    assert lines[2] == "  2 tokens share account alice's budget: no extra capacity"
    assert lines[3].split()[:3] == ["ghp_…zzzz", "viewer-2", "4999/5000"]
    assert len(lines) == 4
    assert not any(token in result.output for token in (A, B, C))
