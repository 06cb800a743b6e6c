"""`ghsync --version`: the installed package's version."""

from __future__ import annotations

from importlib.metadata import version

from typer.testing import CliRunner

from ghsync.cli import app


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ghsync {version('ghsync')}\n"
