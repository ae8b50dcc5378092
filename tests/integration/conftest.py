from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.testing.stack import Stack
from tests.support import roundtrip

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
async def roundtrip_schemas(stack: Stack) -> None:
    await roundtrip.reset_schemas(stack.superuser_dsn, stack.layout.role_url("{role}"))


class Peers:
    """Relay and consumer processes started by a test; all are stopped when it ends."""

    def __init__(self, stack: Stack, tmp: Path) -> None:
        self._stack = stack
        self._tmp = tmp
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(
        self, mode: str, *, schema: str, topic: str = "", group: str = "", faults: str = ""
    ) -> subprocess.Popen[bytes]:
        log = (self._tmp / f"{mode}-{len(self._procs)}.log").open("wb")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.peer",
                mode,
                "--db",
                self._stack.layout.role_url(schema),
                "--bootstrap",
                self._stack.kafka_bootstrap,
                "--topic",
                topic,
                "--group",
                group or "rt-sink",
                "--faults",
                faults,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._procs.append(proc)
        return proc

    def log(self, index: int) -> str:
        return sorted(self._tmp.glob(f"*-{index}.log"))[0].read_text(errors="replace")

    def stop_all(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def peers(stack: Stack, tmp_path: Path) -> Iterator[Peers]:
    p = Peers(stack, tmp_path)
    yield p
    p.stop_all()
