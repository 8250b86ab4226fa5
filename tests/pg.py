"""A real PostgreSQL server for the tests: a throwaway cluster made with initdb and pg_ctl.

One cluster per test session (per xdist worker), in its own temporary directory, listening
on a free 127.0.0.1 port; each test gets a fresh, empty database in it. PostgreSQL refuses
to run as root, so under root the cluster runs as the `postgres` user (or `nobody`).
A missing PostgreSQL skips the tests, and fails them under CI=true (tests/realparts.py).

Use it from a test module with `from tests.pg import postgres_server, postgres_url`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.realparts import free_port, missing

PG_START_ATTEMPTS = 3  # another process may take the free port first
PG_COMMAND_SECONDS = 120  # initdb and start on a busy machine
PG_SUPERUSER = "billreel"
# Durability is not what the tests check: skipping fsync makes the cluster much faster.
PG_FAST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
RUN_AS_CANDIDATES = ("postgres", "nobody")


@dataclass(frozen=True)
class PostgresServer:
    port: int
    directory: Path

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for the psycopg (v3) driver."""
        return f"postgresql+psycopg://{PG_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def connect_kwargs(self, database: str = "postgres") -> dict[str, object]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "user": PG_SUPERUSER,
            "dbname": database,
            "autocommit": True,
        }


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, else Debian's newest version."""
    initdb = shutil.which("initdb")
    if initdb is not None and shutil.which("pg_ctl") is not None:
        return Path(initdb).resolve().parent
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not candidates:
        return None
    newest = max(candidates, key=lambda p: int(Path(p).parent.parent.name or 0))
    return Path(newest).parent


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged user the cluster runs as when the tests run as root; None otherwise."""
    if os.geteuid() != 0:
        return None
    for name in RUN_AS_CANDIDATES:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and no unprivileged user to run PostgreSQL as")


def _pg(args: list[str], user: pwd.struct_passwd | None, cwd: Path) -> None:
    result = subprocess.run(
        args,
        cwd=cwd,
        user=user.pw_uid if user else None,
        group=user.pw_gid if user else None,
        extra_groups=[] if user else None,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
        capture_output=True,
        timeout=PG_COMMAND_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
        raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}): {output}")


def start_postgres() -> PostgresServer:
    """initdb a new cluster in a temporary directory and start it on a free loopback port."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        missing("PostgreSQL (initdb and pg_ctl; Debian package postgresql)")
    user = _run_as()
    # Not under pytest's tmp_path: its parents are private to root, out of the user's reach.
    directory = Path(tempfile.mkdtemp(prefix="billreel-pg-"))
    if user is not None:
        os.chown(directory, user.pw_uid, user.pw_gid)
    data = directory / "data"
    _pg(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            PG_SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        ],
        user,
        directory,
    )
    last_error: Exception | None = None
    for _ in range(PG_START_ATTEMPTS):
        port = free_port()
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 {PG_FAST_OPTIONS}"
        try:
            _pg(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(directory / "postgres.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(PG_COMMAND_SECONDS),
                    "start",
                ],
                user,
                directory,
            )
            return PostgresServer(port=port, directory=directory)
        except RuntimeError as exc:
            last_error = exc
    shutil.rmtree(directory, ignore_errors=True)
    raise RuntimeError(f"could not start PostgreSQL: {last_error}")


def stop_postgres(server: PostgresServer) -> None:
    bin_dir = find_pg_bin()
    if bin_dir is not None:
        data = str(server.directory / "data")
        with contextlib.suppress(RuntimeError):  # already gone: the directory still goes
            _pg(
                [str(bin_dir / "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
                _run_as(),
                server.directory,
            )
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the whole session, stopped and removed at its end."""
    server = start_postgres()
    try:
        yield server
    finally:
        stop_postgres(server)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh, empty database of this test's own, dropped afterwards."""
    import psycopg

    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(**postgres_server.connect_kwargs()) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.url(name)
    with psycopg.connect(**postgres_server.connect_kwargs()) as conn:  # type: ignore[arg-type]
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
