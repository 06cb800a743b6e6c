"""The SQL ships inside the package: a wheel, installed elsewhere, migrates a warehouse."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

from ghsync.sql_files import list_migrations, list_views

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    import ghsync
    from ghsync.warehouse import Warehouse
    with Warehouse.open(Path(sys.argv[2])) as warehouse:
        views = warehouse.query(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW'"
        )["table_name"].to_list()
        rules = warehouse.query("SELECT count(*) FROM ai_rules").item()
    print(json.dumps({"package": ghsync.__file__, "views": sorted(views), "rules": rules}))
    """
)


def build_wheel(workdir: Path) -> Path:
    """Build a wheel from a copy of the sources (the shared checkout stays clean)."""
    source = workdir / "src"
    source.mkdir()
    for name in ("ghsync", "flows", "warehouse"):
        shutil.copytree(
            ROOT / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("*.duckdb*")
        )
    shutil.copy(ROOT / "pyproject.toml", source)
    (source / "README.md").write_text("ghsync\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", workdir],
        check=True,
        cwd=workdir,
    )
    (wheel,) = workdir.glob("ghsync-*.whl")
    return wheel


def test_an_installed_wheel_finds_its_sql_through_the_package(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(site), str(tmp_path / "w.duckdb")],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    found = json.loads(result.stdout)
    assert Path(found["package"]).is_relative_to(site)
    assert found["views"] == sorted(view.name for view in list_views())
    assert found["rules"] == len((ROOT / "warehouse" / "ai_rules.csv").read_text().splitlines()) - 1
    assert (site / "ghsync" / "sql" / "migrations" / "001_tables.sql").is_file()
    assert len(list_migrations()) >= 1
