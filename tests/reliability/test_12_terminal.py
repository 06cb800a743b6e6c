"""Scenario 12: `ghsync sync` as a terminal program. On a terminal it shows live progress, in
a pipe one line per page, Prefect's own lines going to a log file (or to the screen with
`--verbose`). Stopped as people stop it: Ctrl-C on a terminal (also with its output piped
through `tee`) and SIGTERM stop it within 10 s, with one line, exit 130 and no traceback, and
the same command then resumes to GitHub's truth; after `kill -9` no process of the run is left
(its temporary Prefect server stops with it).

The runs use ghsync's own temporary Prefect server (PREFECT_API_URL empty), which is what a
new user gets, and what a Ctrl-C used to reach too: the server then died under the run.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import duckdb
import pytest

from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig
from tests.reliability.conftest import Scenario, assert_equals_truth, fake_tokens, ghsync_command
from tests.terminal import Terminal, descendants, wait_gone

REPOS = ("acme/repo-1", "acme/repo-2")
PRS, PAGE = 100, 10
INTERRUPTED = "interrupted: run the same command again to resume"
STOP_SECONDS = 10.0
MIDWAY = rf"[1-8]0/~{PRS} PRs · page [1-8]\b|: page [1-8], [1-8]0/~{PRS} PRs"
"""A repository has 1 to 8 of its 10 pages loaded (on a live display, or as a line). Not "page
1" only: a page is one request now, and the live display (4 refreshes a second) on a busy
machine can skip past it."""
PAGE_LINE = re.compile(rf"^acme/repo-[12]: page \d+, \d+/~{PRS} PRs, \d+ points(, ETA \d+ s)?$")
TOTAL = re.compile(
    r"^total: 2 repositories \(2 synced\), 200 PRs, [\d,]+ rows, (\d+) points in (\d+) "
    r"requests, [\d.]+ s$"
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One PREFECT_HOME for the module's temporary servers: only the first migrates it."""
    return tmp_path_factory.mktemp("terminal-prefect-home")


@pytest.fixture
def emulator(scenario: Scenario) -> Emulator:
    """Two repositories of 10 pages, each request 150 ms: a run is mid-way for seconds."""
    config = EmulatorConfig(
        seed=112, repos=2, prs=PRS, tokens=fake_tokens("uv"), faults=FaultConfig(latency_ms=150)
    )
    return scenario.emulator(config)


def sync_args(db: Path) -> list[str]:
    return ["sync", *REPOS, "--db", str(db), "--full", "--page-size", str(PAGE)]


def loaded_prs(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as connection:
        row = connection.execute("SELECT count(*) FROM pull_requests").fetchone()
    return int(row[0]) if row else 0


def assert_no_traceback(output: str) -> None:
    for word in ("Traceback", "Error", "KeyboardInterrupt"):
        assert word not in output, output[-3000:]


def on_terminal(scenario: Scenario, command: list[str], home: Path) -> Terminal:
    terminal = Terminal(command, scenario.env(PREFECT_API_URL="", PREFECT_HOME=str(home)))
    scenario.cleanup(terminal.close)
    return terminal


def assert_stopped_then_resumed(
    scenario: Scenario, emulator: Emulator, terminal: Terminal, db: Path, home: Path
) -> str:
    """The run ended within STOP_SECONDS with 130 and the one line, midway; the same command
    then completes to the truth. Returns the interrupted run's output."""
    code = terminal.wait(timeout=STOP_SECONDS)
    output = terminal.text()
    scenario.evidence.outputs.append(output)
    assert code == 130, output[-3000:]
    assert output.count(INTERRUPTED) == 1, output[-3000:]
    assert_no_traceback(output)
    assert 0 < loaded_prs(db) < len(REPOS) * PRS  # pages loaded before it stopped, and kept
    resumed = on_terminal(scenario, ghsync_command(*sync_args(db)), home)
    assert resumed.wait(timeout=240) == 0, resumed.text()[-3000:]
    assert "total: 2 repositories (2 synced)" in resumed.text()
    assert_equals_truth(db, emulator, *REPOS)
    return output


@pytest.mark.scenario("12. On a terminal, in a pipe, stopped")
def test_in_a_pipe_one_line_per_page_and_prefects_lines_in_a_log_file(
    scenario: Scenario, emulator: Emulator, tmp_path: Path
) -> None:
    done = scenario.cli(*sync_args(tmp_path / "w.duckdb"))
    assert done.returncode == 0, done.stderr[-3000:]
    progress = done.stderr.splitlines()
    pages = [line for line in progress if PAGE_LINE.match(line)]
    assert len(pages) == len(REPOS) * PRS // PAGE, done.stderr
    assert len(progress) <= len(pages) + 2, done.stderr  # and the phases: checking, to sync
    assert "Task run" not in done.stderr + done.stdout
    *repos, total, log = done.stdout.splitlines()
    assert [line.split(":")[0] for line in repos] == list(REPOS)
    counted = TOTAL.match(total)
    assert counted, total
    stats = emulator.stats()
    assert int(counted[1]) == stats["points_total"], total  # the whole run's, as GitHub counts
    assert int(counted[2]) == stats["counters"]["graphql_requests"], total
    assert log.startswith(f"Prefect's log of this run: {scenario.prefect_home}/logs/ghsync-sync-")
    written = Path(log.split(": ", 1)[1]).read_text()
    assert "Task run 'fetch-pr-page acme/repo-1 #1' - Finished in state Completed()" in written
    verbose = scenario.cli(*sync_args(tmp_path / "w.duckdb"), "--verbose")
    assert verbose.returncode == 0, verbose.stderr[-3000:]
    assert "Task run 'fetch-pr-page acme/repo-1 #1' - Finished in state Completed()" in (
        verbose.stderr
    )
    assert "Prefect's log" not in verbose.stdout


@pytest.mark.scenario("12. On a terminal, in a pipe, stopped")
def test_ctrl_c_on_a_terminal_stops_and_the_same_command_resumes(
    scenario: Scenario, emulator: Emulator, tmp_path: Path, home: Path
) -> None:
    db = tmp_path / "w.duckdb"
    terminal = on_terminal(scenario, ghsync_command(*sync_args(db)), home)
    terminal.wait_for(MIDWAY)
    screen = terminal.text()
    assert re.search(r"0/2 repositories done · \d+ PRs · \d+ points in \d+ requests", screen)
    assert "Task run" not in screen  # Prefect's lines go to the log file
    assert "requests · ghp_…uuuu" in screen and "left, ghp_…vvvv" in screen, screen[-3000:]
    terminal.press_ctrl_c()
    assert_stopped_then_resumed(scenario, emulator, terminal, db, home)


@pytest.mark.scenario("12. On a terminal, in a pipe, stopped")
def test_ctrl_c_with_the_output_piped_through_tee(
    scenario: Scenario, emulator: Emulator, tmp_path: Path, home: Path
) -> None:
    """The shell runs `ghsync ... | tee`: Ctrl-C reaches both, tee dies, the run's stdout is
    a broken pipe. (The subshell records ghsync's own exit code.)"""
    db, status = tmp_path / "w.duckdb", tmp_path / "status"
    command = " ".join(ghsync_command(*sync_args(db)))
    pipeline = f"{{ {command}; echo $? > {status}; }} | tee {tmp_path / 'tee.log'}"
    terminal = on_terminal(scenario, ["bash", "-c", pipeline], home)
    terminal.wait_for(MIDWAY)
    terminal.press_ctrl_c()
    terminal.wait(timeout=STOP_SECONDS)
    output = terminal.text()
    scenario.evidence.outputs.append(output)
    assert status.read_text().strip() == "130", output[-3000:]
    assert output.count(INTERRUPTED) == 1, output[-3000:]
    assert_no_traceback(output)
    resumed = on_terminal(scenario, ghsync_command(*sync_args(db)), home)
    assert resumed.wait(timeout=240) == 0, resumed.text()[-3000:]
    assert_equals_truth(db, emulator, *REPOS)


@pytest.mark.scenario("12. On a terminal, in a pipe, stopped")
def test_sigterm_stops_the_same_way(
    scenario: Scenario, emulator: Emulator, tmp_path: Path, home: Path
) -> None:
    db = tmp_path / "w.duckdb"
    terminal = on_terminal(scenario, ghsync_command(*sync_args(db)), home)
    terminal.wait_for(MIDWAY)
    terminal.process.terminate()
    assert_stopped_then_resumed(scenario, emulator, terminal, db, home)


@pytest.mark.scenario("12. On a terminal, in a pipe, stopped")
def test_kill_9_leaves_no_process_behind(
    scenario: Scenario, emulator: Emulator, tmp_path: Path, home: Path
) -> None:
    db = tmp_path / "w.duckdb"
    terminal = on_terminal(scenario, ghsync_command(*sync_args(db)), home)
    terminal.wait_for(MIDWAY)
    started = descendants(terminal.pid)
    assert started, "the run started no temporary Prefect server"
    terminal.process.kill()
    terminal.wait(timeout=STOP_SECONDS)
    assert wait_gone(started, timeout=30) == []  # the server's graceful stop, on a busy machine


@pytest.mark.scenario("12. On a terminal, in a pipe, stopped")
def test_ctrl_c_while_the_prefect_server_starts(
    scenario: Scenario, emulator: Emulator, tmp_path: Path
) -> None:
    """Before the flow (a new PREFECT_HOME: the server migrates its database for seconds)."""
    command = ghsync_command(*sync_args(tmp_path / "w.duckdb"))
    terminal = Terminal(command, scenario.env(PREFECT_API_URL="", PREFECT_HOME=str(tmp_path)))
    scenario.cleanup(terminal.close)
    terminal.wait_for("starting a temporary Prefect server")
    deadline = time.monotonic() + 60
    while not (started := descendants(terminal.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)  # the server process is launched right after the line
    assert started, "no temporary Prefect server"
    terminal.press_ctrl_c()
    assert terminal.wait(timeout=STOP_SECONDS) == 130, terminal.text()[-3000:]
    assert terminal.text().count(INTERRUPTED) == 1
    assert_no_traceback(terminal.text())
    assert wait_gone(started, timeout=30) == []
