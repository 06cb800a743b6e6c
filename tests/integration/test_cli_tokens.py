"""`ghsync tokens` against the emulator: a header row, tokens grouped by account, shared
budgets said so, and short tokens told apart by their masks."""

from __future__ import annotations

import tempfile
from pathlib import Path

from typer.testing import CliRunner

from ghsync.cli import app
from ghsync.emulator import EmulatorConfig, running_emulator
from ghsync.emulator.apps import InstallationConfig
from ghsync.log import mask_token
from tests.apps import APP_ID, OTHER_PRIVATE_KEY, PRIVATE_KEY, app_config

A, B, C = (f"ghp_{c * 36}" for c in "xyz")
HEADER = ["CREDENTIAL", "KIND", "ACCOUNT", "POINTS", "RESET", "EXPIRES", "STATE"]
PAT = "personal-token"


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
    assert [line.split()[:4] for line in lines[:2]] == [
        ["ghp_…xxxx", PAT, "alice", "4998/5000"],  # one budget: both tokens' Viewer points
        ["ghp_…yyyy", PAT, "alice", "4998/5000"],
    ]
    assert lines[2] == "  2 tokens share account alice's budget: no extra capacity"
    assert lines[3].split()[:4] == ["ghp_…zzzz", PAT, "viewer-2", "4999/5000"]
    assert len(lines) == 4
    for line in (lines[0], lines[3]):  # columns line up under their names
        for name, cell in zip(HEADER[:5], line.split()[:5], strict=True):
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


def test_app_installations_are_listed_with_their_own_budgets_and_expiry() -> None:
    installations = (
        InstallationConfig(11, "acme"),
        InstallationConfig(12, "bigcorp", repositories=60, users=30),
    )
    config = EmulatorConfig(seed=1, repos=1, prs=5, tokens=(A,), apps=(app_config(*installations),))
    # the key file goes as soon as the test is done: scenario 10 searches the tests' files
    with running_emulator(config) as emulator, tempfile.TemporaryDirectory() as folder:
        key = Path(folder) / "app.pem"
        key.write_text(PRIVATE_KEY)
        env = {
            "GITHUB_TOKENS": A,
            "GITHUB_TOKEN": None,
            "GITHUB_GRAPHQL_URL": emulator.graphql_url,
            "GITHUB_API_URL": emulator.api_url,
            "GITHUB_APP_ID": str(APP_ID),
            "GITHUB_APP_PRIVATE_KEY_PATH": str(key),
        }
        result = CliRunner().invoke(app, ["tokens"], env=env)
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.splitlines()
    assert header.split() == HEADER
    rows = [line.split() for line in lines]
    assert [row[:4] for row in rows] == [
        ["ghp_…xxxx", PAT, "viewer-1", "4999/5000"],
        [f"app-{APP_ID}/installation-11", "app-installation", "acme", "4999/5000"],
        [f"app-{APP_ID}/installation-12", "app-installation", "bigcorp", "7499/7500"],
    ]
    assert rows[0][5] == "-" and all(row[5].endswith("+00:00") for row in rows[1:])
    assert "ghs_" not in result.output and "PRIVATE KEY" not in result.output


def test_an_app_key_github_refuses_is_a_clear_error() -> None:
    config = EmulatorConfig(
        seed=1, repos=1, prs=5, tokens=(A,), apps=(app_config(InstallationConfig(11, "acme")),)
    )
    with running_emulator(config) as emulator:
        env = {
            "GITHUB_TOKENS": None,
            "GITHUB_TOKEN": None,
            "GITHUB_API_URL": emulator.api_url,
            "GITHUB_APP_ID": str(APP_ID),
            "GITHUB_APP_PRIVATE_KEY": OTHER_PRIVATE_KEY,
        }
        result = CliRunner().invoke(app, ["tokens"], env=env)
    assert result.exit_code == 2
    assert f"GitHub refused the JWT of GitHub App {APP_ID}" in result.output
    assert "PRIVATE KEY" not in result.output
