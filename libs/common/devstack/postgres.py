"""PostgreSQL from the machine's own binaries, run as the `postgres` user (it refuses to run as root)."""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from common.devstack.layout import SERVICES, Layout
from common.devstack.processes import StackError, port_open, wait_until


def find_bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found and shutil.which("initdb") else None


def ensure_installed() -> Path:
    """Return the server binaries' folder, installing Debian's `postgresql` when absent and we are root."""
    bin_dir = find_bin_dir()
    if bin_dir is not None:
        return bin_dir
    if os.geteuid() != 0:
        raise StackError("PostgreSQL server binaries not found; install Debian's `postgresql` package")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"], check=True, env=env
    )
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise StackError("installed postgresql but found no pg_ctl")
    return bin_dir


def _as_postgres(cmd: Sequence[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return list(cmd)


def _run(cmd: Sequence[str], *, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_as_postgres(cmd), check=True, text=True, capture_output=True, cwd=cwd)


def _prepare_dirs(layout: Layout) -> tuple[Path, Path, Path]:
    data, sock, log = layout.pg_dir / "data", layout.pg_dir / "run", layout.pg_dir / "postgres.log"
    layout.pg_dir.mkdir(parents=True, exist_ok=True)
    sock.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        for path in (layout.pg_dir, sock):
            os.chown(path, pg.pw_uid, pg.pw_gid)
        _make_traversable(layout.pg_dir)
    return data, sock, log


def _make_traversable(path: Path) -> None:
    # The postgres user must reach its data folder through the checkout's parents.
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def running(layout: Layout) -> bool:
    return port_open(layout.pg_port, layout.pg_host)


def start(layout: Layout) -> bool:
    """Start the server if it is not answering; True when this call started it."""
    if running(layout):
        return False
    bin_dir = ensure_installed()
    data, sock, log = _prepare_dirs(layout)
    if not (data / "PG_VERSION").exists():
        _run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"])
    options = (
        f"-p {layout.pg_port} -k {sock} -c listen_addresses=127.0.0.1 "
        "-c max_connections=300 -c shared_buffers=256MB -c fsync=on"
    )
    try:
        _run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"], cwd="/"
        )
    except subprocess.CalledProcessError as exc:
        raise StackError(f"PostgreSQL did not start: {exc.stderr or exc.stdout} (log: {log})") from None
    wait_until(lambda: running(layout), timeout_s=30, what="PostgreSQL", log=log)
    return True


def stop(layout: Layout) -> bool:
    data = layout.pg_dir / "data"
    bin_dir = find_bin_dir()
    if bin_dir is None or not (data / "postmaster.pid").exists():
        return False
    subprocess.run(
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
        check=False,
        capture_output=True,
        cwd="/",
    )
    return True


def crash(layout: Layout) -> None:
    """Stop the server as a power cut would (immediate mode: no checkpoint, recovery from the WAL at
    the next start) and start it again: the fault suite's PostgreSQL restart."""
    data = layout.pg_dir / "data"
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise StackError("PostgreSQL server binaries not found")
    subprocess.run(
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
        check=False,
        capture_output=True,
        cwd="/",
    )
    start(layout)


def psql(layout: Layout, sql: str, *, database: str | None = None) -> list[tuple[object, ...]]:
    """Run SQL as the superuser and return the rows of the last statement."""

    async def run() -> list[tuple[object, ...]]:
        conn = await asyncpg.connect(
            host=layout.pg_host, port=layout.pg_port, user="postgres", database=database or layout.database
        )
        try:
            if ";" in sql.strip().rstrip(";"):
                await conn.execute(sql)
                return []
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()

    return asyncio.run(run())


def bootstrap(layout: Layout) -> None:
    """Create the database, and per service an owner role (migrations) and a runtime role (DML only)."""
    exists = f"SELECT 1 FROM pg_database WHERE datname = '{layout.database}'"
    if not psql(layout, exists, database="postgres"):
        psql(layout, f"CREATE DATABASE {layout.database}", database="postgres")
    statements = [
        "REVOKE ALL ON SCHEMA public FROM PUBLIC",
        f"REVOKE ALL ON DATABASE {layout.database} FROM PUBLIC",
    ]
    for service in SERVICES:
        owner = f"{service}_owner"
        statements += [
            _create_role(owner),
            _create_role(service),
            f"CREATE SCHEMA IF NOT EXISTS {service} AUTHORIZATION {owner}",
            f"GRANT CONNECT ON DATABASE {layout.database} TO {owner}, {service}",
            f"GRANT USAGE ON SCHEMA {service} TO {service}",
            f"ALTER ROLE {service} SET search_path = {service}",
            # The owner keeps the default search_path: Alembic must see its schema by name, not as default.
            f"ALTER ROLE {owner} RESET search_path",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {service} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {service}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {service} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {service}",
        ]
    psql(layout, ";\n".join(statements))


def _create_role(name: str) -> str:
    return (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN "
        f"CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; END IF; END $$"
    )
