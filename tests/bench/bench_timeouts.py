"""Timeouts and points over several hourly runs of a heavy repository (issue 13, item 4).

    .venv/bin/python -m tests.bench.bench_timeouts [--python OTHER/.venv/bin/python] [--label X]

The emulator answers 502 (and charges the points, as GitHub has since 2025-07) for PR page
queries whose worst-case node count is above 6,000: pages of up to 27 PRs pass, 50 do not.
One full sync at page size 50, then `--runs` incremental syncs, each after three PRs changed.
Each `ghsync sync` runs with the interpreter `--python` (another checkout's, to measure it
before a change) on its own temporary Prefect server. Writes tests/bench/results/timeouts.json
(one entry per label) and prints the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.bench.figures import RESULTS, checked
from tests.bench.processes import UNLIMITED, bench_tokens, run_sync, sync_env
from tests.emulator_process import emulator_process

THRESHOLD = 6000
REPO = "acme/repo-1"


def measure(python: str, runs: int) -> list[dict[str, Any]]:
    faults = json.dumps({"timeout_node_threshold": THRESHOLD, "timeout_body": "json"})
    arguments = ["--seed", "8", "--repos", "1", "--prs", "300", *UNLIMITED, "--faults", faults]
    tokens = bench_tokens(1)
    figures: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="ghsync-timeouts-") as folder,
        emulator_process(*arguments, "--tokens", ",".join(tokens)) as emulator,
    ):
        db, home = Path(folder) / "w.duckdb", Path(folder) / "prefect"
        # PYTHONSAFEPATH: `-m` must not import this checkout's ghsync from the working directory
        env = {**sync_env(emulator.url, tokens, None, home), "PYTHONSAFEPATH": "1"}
        base = [python, "-m", "ghsync.cli", "sync", REPO, "--db", str(db), "--page-size", "50"]
        for run in range(runs + 1):
            if run:
                for number in (run, run + 100, run + 200):
                    emulator.activity("touch", REPO, number)
            emulator.reset()
            checked(run_sync([*base, "--full"] if run == 0 else base, env))
            stats = emulator.stats()
            figures.append(
                {
                    "run": "full" if run == 0 else f"incremental {run}",
                    "timeouts": stats["counters"].get("timeouts", 0),
                    "points": stats["points_total"],
                    "page_requests": stats["counters"].get("op:PullRequestPage", 0),
                }
            )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--label", default="now")
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    figures = measure(args.python, args.runs)
    incremental = figures[1:]
    summary = {
        "runs": figures,
        "incremental_timeouts": sum(f["timeouts"] for f in incremental),
        "incremental_points": sum(f["points"] for f in incremental),
    }
    path = RESULTS / "timeouts.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved[args.label] = summary
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(saved, indent=2) + "\n")
    for figure in figures:
        print(f"{args.label}: {figure}")
    print(
        f"{args.label}: {len(incremental)} incremental runs: "
        f"{summary['incremental_timeouts']} timeouts, {summary['incremental_points']} points"
    )


if __name__ == "__main__":
    main()
