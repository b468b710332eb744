"""A real, throwaway PostgreSQL server for the tests (pytest plugin, see ``conftest.py``).

``postgres_url`` (session scope) runs ``initdb`` and ``pg_ctl start`` from Debian's
``postgresql`` package in a temporary folder, on a free TCP port of 127.0.0.1 with its unix
socket in the same folder, and stops and deletes it at the end of the session. The URL is
``postgresql://rfm:<password>@127.0.0.1:<port>/postgres``; the role ``rfm`` is a superuser and
authenticates with a password (scram-sha-256), so tests can also check wrong credentials.
Tests that need a clean database create their own schemas or databases.

Missing binaries skip the tests that use the fixture, unless the environment variable
``RFM_REQUIRE_POSTGRES`` is set (CI sets it): then they fail, so CI never passes by skipping.
When the tests run as root, the server runs as the ``postgres`` OS user (PostgreSQL refuses
to run as root). Durability is switched off (``fsync=off`` …): the data is thrown away.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SUPERUSER = "rfm"
REQUIRE_ENV = "RFM_REQUIRE_POSTGRES"
START_TIMEOUT_S = 30


@dataclasses.dataclass(frozen=True)
class PostgresServer:
    """Where the throwaway server listens and how to log in."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    data_dir: Path
    start_seconds: float
    """Wall time of initdb + start, reported by the benchmark and the test header."""

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.dbname}"


def find_bindir() -> Path | None:
    """Folder holding ``initdb`` and ``pg_ctl``: Debian's newest version, else the PATH."""
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if debian:
        return Path(debian[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; Debian's package creates the `postgres` user.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({' '.join(cmd)}):\n{done.stdout}\n{done.stderr}")


def start_server(bindir: Path, base_dir: Path) -> PostgresServer:
    """initdb a cluster in ``base_dir`` and start it; the caller stops it with ``stop_server``."""
    started = time.perf_counter()
    if os.geteuid() == 0:
        shutil.chown(base_dir, user="postgres", group="postgres")
    data_dir = base_dir / "data"
    password = secrets.token_hex(12)
    pwfile = base_dir / "pwfile"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, user="postgres", group="postgres")
    _run(
        [
            str(bindir / "initdb"),
            "--pgdata",
            str(data_dir),
            "--username",
            SUPERUSER,
            "--pwfile",
            str(pwfile),
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ],
        "initdb",
    )
    pwfile.unlink()
    port = _free_port()
    # Throwaway data: no durability, small footprint, UTC so timestamps print alike everywhere.
    options = (
        f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={base_dir} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB "
        "-c max_connections=20 -c TimeZone=UTC -c logging_collector=off"
    )
    _run(
        [
            str(bindir / "pg_ctl"),
            "--pgdata",
            str(data_dir),
            "--log",
            str(base_dir / "server.log"),
            "--options",
            options,
            "--wait",
            "--timeout",
            str(START_TIMEOUT_S),
            "start",
        ],
        "pg_ctl start",
    )
    return PostgresServer(
        host="127.0.0.1",
        port=port,
        user=SUPERUSER,
        password=password,
        dbname="postgres",
        data_dir=data_dir,
        start_seconds=time.perf_counter() - started,
    )


def stop_server(bindir: Path, server: PostgresServer) -> None:
    _run(
        [str(bindir / "pg_ctl"), "--pgdata", str(server.data_dir), "--mode", "immediate", "stop"],
        "pg_ctl stop",
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running throwaway PostgreSQL server for the whole test session (see module docstring)."""
    bindir = find_bindir()
    if bindir is None or not (bindir / "initdb").exists():
        reason = (
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql "
            "package with `make system-deps`"
        )
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{reason} ({REQUIRE_ENV} is set, so this is an error, not a skip)")
        pytest.skip(reason)
    base_dir = Path(tempfile.mkdtemp(prefix="rfm-postgres-"))
    try:
        server = start_server(bindir, base_dir)
        try:
            yield server
        finally:
            stop_server(bindir, server)
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """Connection URL (with password) of the session's throwaway PostgreSQL server."""
    return postgres_server.url
