"""A throwaway PostgreSQL server on loopback (Debian's package: `make postgres` installs it), for
the tests and benchmarks that need one: the DuckLake catalog, a Prefect server's database.

PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user. The server
listens on 127.0.0.1 on a free port, with its socket in its own temporary folder, trusts local
connections (no password) and is stopped fast at the end of the block.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.prefect_stack import free_port

QUIET = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl), or None when not installed:
    Debian keeps them in /usr/lib/postgresql/<version>/bin, off the PATH."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass(frozen=True)
class Postgres:
    """A running server: create databases, and name them the ways their clients want."""

    port: int
    bin: Path
    as_owner: tuple[str, ...]

    def create_database(self, name: str) -> None:
        where = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        subprocess.run([*self.as_owner, str(self.bin / "createdb"), *where, name], **QUIET)

    def conninfo(self, database: str) -> str:
        """libpq's key=value form (DuckDB's postgres extension, DuckLake's catalog)."""
        return f"dbname={database} host=127.0.0.1 port={self.port} user=postgres"

    def sqlalchemy_url(self, database: str) -> str:
        """Prefect's form (PREFECT_API_DATABASE_CONNECTION_URL)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A throwaway server for the block; RuntimeError when PostgreSQL is not installed."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed: run `make postgres`")
    as_owner = ("runuser", "-u", "postgres", "--") if os.geteuid() == 0 else ()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ghsync-pg-") as folder:
        if as_owner:
            shutil.chown(folder, "postgres")
        data = Path(folder, "data")
        subprocess.run(
            [*as_owner, str(bin_dir / "initdb"), "-D", data, "-A", "trust", "-U", "postgres"],
            **QUIET,
        )
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        pg_ctl = str(bin_dir / "pg_ctl")
        start = [pg_ctl, "-D", data, "-o", options, "-l", Path(folder, "log"), "-w", "start"]
        subprocess.run([*as_owner, *start], **QUIET)
        try:
            yield Postgres(port, bin_dir, as_owner)
        finally:
            subprocess.run([*as_owner, pg_ctl, "-D", data, "-m", "fast", "-w", "stop"], **QUIET)
