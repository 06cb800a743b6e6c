"""`ghsync tokens` against the emulator: a header row, tokens grouped by account, shared
budgets said so, and short tokens told apart by their masks."""

from __future__ import annotations

from typer.testing import CliRunner

from ghsync.cli import app
from ghsync.emulator import EmulatorConfig, running_emulator
from ghsync.log import mask_token

A, B, C = (f"ghp_{c * 36}" for c in "xyz")
HEADER = ["TOKEN", "ACCOUNT", "POINTS", "RESET", "STATE"]


def tokens_output(config: EmulatorConfig, tokens: str) -> str:
    with running_emulator(config) as emulator:
        env = {"GITHUB_TOKENS": tokens, "GITHUB_TOKEN": None}
        env["GITHUB_GRAPHQL_URL"] = emulator.graphql_url
        result = CliRunner().invoke(app, ["tokens"], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_tokens_of_one_account_are_listed_as_one_budget() -> None:
    config = EmulatorConfig(seed=1, repos=1, prs=5, tokens=(f"{A}=alice", C, f"{B}=alice"))
    output = tokens_output(config, f"{A},{C},{B}")
    header, *lines = output.splitlines()
    assert header.split() == HEADER
    assert [line.split()[:3] for line in lines[:2]] == [
        ["ghp_…xxxx", "alice", "4998/5000"],  # one budget: both tokens' Viewer points
        ["ghp_…yyyy", "alice", "4998/5000"],
    ]
    assert lines[2] == "  2 tokens share account alice's budget: no extra capacity"
    assert lines[3].split()[:3] == ["ghp_…zzzz", "viewer-2", "4999/5000"]
    assert len(lines) == 4
    for line in (lines[0], lines[3]):  # columns line up under their names
        for name, cell in zip(HEADER[:4], line.split()[:4], strict=True):
            assert line.index(cell) == header.index(name), (name, line)
    assert not any(token in output for token in (A, B, C))


def test_short_tokens_have_masks_of_their_own() -> None:
    short = ("ghp_aaaa", "ghp_bbbb", "ghp_cccc")
    config = EmulatorConfig(seed=1, repos=1, prs=5, tokens=short)
    output = tokens_output(config, ",".join(short))
    masks = [line.split()[0] for line in output.splitlines()[1:]]
    assert masks == [mask_token(token) for token in short]
    assert len(set(masks)) == len(short)
    assert not any(token.removeprefix("ghp_") in output for token in short)
