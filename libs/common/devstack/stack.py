"""Bring the whole dev stack up or down, idempotently; `up` also restarts any of its processes that died."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from common.auth import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, generate_signing_keypair
from common.crypto import generate_keyring_file
from common.devstack import kafka, postgres, processes
from common.devstack.layout import SERVICES, WEBHOOK_PROVIDERS, Layout
from common.settings import DEV_KEY_MARK
from common.webhooks import generate_secrets_file


@dataclass
class Started:
    """What one `up` call started itself, so a test session stops only that."""

    postgres: bool = False
    kafka: bool = False
    processes: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return self.postgres or self.kafka or bool(self.processes)


def ensure_keys(layout: Layout) -> None:
    layout.keys.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.keys, 0o700)
    generate_signing_keypair(layout.keys)
    # A separate Ed25519 pair signs audit checkpoints, so a token key leak cannot forge them.
    layout.audit_key_dir.mkdir(parents=True, exist_ok=True)
    generate_signing_keypair(layout.audit_key_dir)
    if not layout.field_keys.exists():
        generate_keyring_file(layout.field_keys)
    for path in (
        *(d / f for d in (layout.keys, layout.audit_key_dir) for f in (PRIVATE_KEY_FILE, PUBLIC_KEY_FILE)),
        layout.field_keys,
    ):
        _mark_dev_key(path)
    generate_secrets_file(layout.webhook_secrets, WEBHOOK_PROVIDERS, note=DEV_KEY_MARK)


def _mark_dev_key(path: Path) -> None:
    """Say in the file itself that it is a dev key, so a copy is refused by production settings."""
    raw = path.read_bytes()
    if DEV_KEY_MARK.encode() in raw:
        return
    if path.suffix == ".json":
        data = json.loads(raw)
        data["note"] = DEV_KEY_MARK
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    else:  # PEM allows explanatory text before the armour
        path.write_bytes(DEV_KEY_MARK.encode() + b"\n" + raw)


def migrate(layout: Layout, services: tuple[str, ...] = tuple(SERVICES)) -> None:
    """Run each service's migrations as its owner role, in a child process (Alembic owns its loop)."""
    for service in services:
        subprocess.run(
            [sys.executable, "-m", "common.devstack", "migrate-one", service],
            check=True,
            env={**os.environ, "COLLECTIONS_MIGRATION_URL": layout.role_url(f"{service}_owner")},
        )


def _pidfile(layout: Layout, name: str) -> Path:
    return layout.run / f"{name}.pid"


def sandbox_running(layout: Layout) -> bool:
    return processes.read_pid(_pidfile(layout, "sandbox")) is not None and processes.http_ok(
        f"http://127.0.0.1:{layout.sandbox_http_port}/healthz"
    )


def start_sandbox(layout: Layout) -> bool:
    was_running = sandbox_running(layout)
    if was_running and _fresh(layout, "sandbox"):
        return False
    processes.stop(_pidfile(layout, "sandbox"), timeout_s=5)
    log = layout.logs / "sandbox.log"
    processes.start(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--host",
            "127.0.0.1",
            "--http-port",
            str(layout.sandbox_http_port),
            "--smtp-port",
            str(layout.sandbox_smtp_port),
            # its delivery receipts and borrowers' replies go to reminders, signed
            "--reminders-url",
            layout.service_url("reminders"),
            "--webhook-secrets-file",
            str(layout.webhook_secrets),
        ],
        pidfile=_pidfile(layout, "sandbox"),
        logfile=log,
    )
    _stamp(layout, "sandbox")
    processes.wait_until(lambda: sandbox_running(layout), timeout_s=30, what="sandbox", log=log)
    return not was_running


def code_fingerprint(layout: Layout, name: str) -> str:
    """Changes whenever a file the process runs does, so `up` restarts processes running stale code."""
    digest = hashlib.sha256()
    own = "deploy/sandbox" if name == "sandbox" else f"services/{name.split('-')[0]}"  # a replica's too
    for folder in ("libs", own):
        for path in sorted((layout.root / folder).rglob("*.py")):
            stat = path.stat()
            digest.update(f"{path}:{stat.st_mtime_ns}:{stat.st_size}\n".encode())
    return digest.hexdigest()[:16]


def _fresh(layout: Layout, name: str) -> bool:
    stamp = layout.run / f"{name}.code"
    return stamp.exists() and stamp.read_text() == code_fingerprint(layout, name)


def _stamp(layout: Layout, name: str) -> None:
    (layout.run / f"{name}.code").write_text(code_fingerprint(layout, name))


# A second process of a service (same consumer groups, same database) listens this far above the first.
REPLICA_PORT_OFFSET = 100


def replica_port(service: str, replica: int = 0) -> int:
    return SERVICES[service] + REPLICA_PORT_OFFSET * replica


def _name(service: str, replica: int) -> str:
    return service if replica == 0 else f"{service}-{replica}"


def service_running(layout: Layout, service: str, *, replica: int = 0) -> bool:
    return processes.read_pid(_pidfile(layout, _name(service, replica))) is not None and processes.http_ok(
        f"http://127.0.0.1:{replica_port(service, replica)}/readyz"
    )


def start_service(
    layout: Layout,
    service: str,
    *,
    extra_env: dict[str, str] | None = None,
    replica: int = 0,
    wait: bool = True,
) -> bool:
    """Start (or restart with fresh code) one service; True only when it was not running before.
    `replica` n > 0 starts another process of it beside the first, on its port plus 100 n. Without
    `wait` it returns once the process is started, ready or not (one meant to die at a crash point)."""
    name = _name(service, replica)
    was_running = service_running(layout, service, replica=replica)
    if was_running and _fresh(layout, name):
        return False
    pidfile = _pidfile(layout, name)
    processes.stop(pidfile, timeout_s=5)  # a process that lives but is not ready is restarted
    log = layout.logs / f"{name}.log"
    processes.start(
        [
            sys.executable,
            "-m",
            "common.serve",
            service,
            "--host",
            "127.0.0.1",
            "--port",
            str(replica_port(service, replica)),
        ],
        pidfile=pidfile,
        logfile=log,
        env={**layout.service_env(service), **(extra_env or {})},
        cwd=layout.root,
    )
    _stamp(layout, name)
    if not wait:
        return not was_running
    processes.wait_until(
        lambda: service_running(layout, service, replica=replica), timeout_s=90, what=name, log=log
    )
    return not was_running


def stop_service(layout: Layout, service: str, *, replica: int = 0) -> bool:
    return processes.stop(_pidfile(layout, _name(service, replica)))


def up(layout: Layout, *, with_services: bool = True, external_infra: bool = False) -> Started:
    """Start what is not running. With `external_infra`, PostgreSQL and Kafka are someone else's
    (testcontainers, or URLs from the environment): they are bootstrapped but not started.

    Two launchers at once (a test run in each of two terminals) take turns: the second waits for the
    first and then finds everything running."""
    layout.logs.mkdir(parents=True, exist_ok=True)
    layout.traces.mkdir(parents=True, exist_ok=True)
    with (layout.logs / "launcher.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _up(layout, with_services=with_services, external_infra=external_infra)


def _up(layout: Layout, *, with_services: bool, external_infra: bool) -> Started:
    started = Started()
    ensure_keys(layout)
    if not external_infra:
        started.postgres = postgres.start(layout)
    postgres.bootstrap(layout)
    if not external_infra:
        started.kafka = kafka.start(layout)
    kafka.create_topics(layout)
    migrate(layout)
    if start_sandbox(layout):
        started.processes.append("sandbox")
    if with_services:
        for service in SERVICES:
            if start_service(layout, service):
                started.processes.append(service)
    return started


def down(layout: Layout, started: Started | None = None) -> None:
    """Stop everything (or only what `started` names), services first so they flush their work."""
    names = [*SERVICES, "sandbox"] if started is None else started.processes
    if started is None:  # and any replica a test left behind
        names = [p.stem for p in sorted(layout.run.glob("*-[0-9].pid"))] + names
    for name in names:
        processes.stop(_pidfile(layout, name))
    if started is None or started.kafka:
        kafka.stop(layout)
    if started is None or started.postgres:
        postgres.stop(layout)


def status(layout: Layout) -> dict[str, bool]:
    result = {
        "postgres": postgres.running(layout),
        "kafka": kafka.running(layout),
        "sandbox": sandbox_running(layout),
    }
    for service in SERVICES:
        result[service] = service_running(layout, service)
    return result
