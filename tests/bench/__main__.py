"""Every benchmark of issue 8 against the emulator, one command:

    .venv/bin/python -m tests.bench        (or `make bench`)

Writes tests/bench/RESULTS.md (figure, value, target, limit or comparison, command) and the raw
measurements in tests/bench/results/figures.json (the load benchmark also writes load.json).
Not part of pytest: the figures report, they do not pass or fail.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.bench import figures
from tests.bench.processes import postgres, prefect_server

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-prs", type=int, nargs=2, default=(5000, 50_000))
    parser.add_argument("--load-prs", type=int, nargs=2, default=(50_000, 3_000))
    args = parser.parse_args()
    started = time.perf_counter()
    timings: dict[str, float] = {}
    results: list[figures.Figure] = []

    def step(name: str, produce: object) -> None:
        begun = time.perf_counter()
        made = produce() if callable(produce) else produce
        results.extend(made if isinstance(made, list) else [made])
        timings[name] = round(time.perf_counter() - begun, 1)
        print(f"[bench] {name}: {timings[name]} s", flush=True)

    with tempfile.TemporaryDirectory(prefix="ghsync-bench-") as folder, postgres() as database:
        work = Path(folder)
        server_database = "PostgreSQL" if database else "SQLite (PostgreSQL is not installed)"
        with prefect_server(work / "server", database) as api:
            bench = figures.Bench(work, api)
            step("points", lambda: figures.points_per_1000(bench))
            step("plans", figures.query_plans)
            step("shapes", figures.check_run_shapes)
            step("unchanged", lambda: figures.unchanged_resync(bench))
            step("scaling", lambda: figures.token_scaling(bench, figures.Scaling()))
            step("load", lambda: figures.load_rate(*args.load_prs))
            step("memory", lambda: figures.memory(bench, *args.memory_prs))
            step("resume", lambda: figures.resume_waste(bench))
    by_number = {figure.number: figure for figure in results}
    results.append(figures.backfill(by_number[1], by_number[3]))
    results.sort(key=lambda figure: figure.number)
    total = time.perf_counter() - started
    write(results, timings, total, server_database)
    print(f"[bench] done in {total:.0f} s; wrote {HERE / 'RESULTS.md'}")


def write(
    results: list[figures.Figure], timings: dict[str, float], total: float, server_database: str
) -> None:
    machine = f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    figures.RESULTS.mkdir(exist_ok=True)
    raw = {
        "written": when,
        "machine": machine,
        "seconds": round(total, 1),
        "prefect_server_database": server_database,
        "steps": timings,
        "figures": [dataclasses.asdict(figure) for figure in results],
    }
    (figures.RESULTS / "figures.json").write_text(json.dumps(raw, indent=2) + "\n")
    rows = [
        f"| {f.number}. {f.name} | {f.value} | {f.target} | {f.comparison} | `{f.command}` |"
        for f in results
    ]
    text = [
        "# Benchmarks (issue 8)",
        "",
        f"Written by `python -m tests.bench` on {when} ({machine}) in {total:.0f} s; "
        "raw numbers in `results/figures.json` and `results/load.json`. The emulator runs in "
        "its own process and counts points with GitHub's formula. The syncs share a "
        f"`prefect server start` on {server_database} (figure 2 starts its own temporary "
        "server, on SQLite, as `ghsync sync` does without PREFECT_API_URL).",
        "",
        "| figure | value | target | limit or comparison | command |",
        "|---|---|---|---|---|",
        *rows,
        "",
        *_tables(results),
    ]
    (HERE / "RESULTS.md").write_text("\n".join(text))


def _tables(results: list[figures.Figure]) -> list[str]:
    """The rows behind figures 9 and 10 (issue 17): the plans and check-run shapes measured."""
    lines: list[str] = []
    for figure in results:
        if plans := figure.raw.get("plans"):
            lines += [f"## {figure.number}. {figure.name}", "", "| plan | points | requests |"]
            lines += ["|---|---|---|"]
            lines += [f"| {r['plan']} | {r['points']} | {r['requests']} |" for r in plans]
            lines += [""]
        if shapes := figure.raw.get("shapes"):
            lines += [f"## {figure.number}. {figure.name}", ""]
            lines += ["| shape | points | requests | check runs returned |", "|---|---|---|---|"]
            lines += [
                f"| {r['shape']} | {r['points']} | {r['requests']} | "
                f"{r['runs']} of {r['expected_runs']} |"
                for r in shapes
            ]
            lines += [""]
    return lines


if __name__ == "__main__":
    main()
