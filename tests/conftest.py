"""The whole suite shares one stack (see common.testing.stack); unit tests never ask for it."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from common.devstack.layout import Layout

pytest_plugins = ["common.testing.stack", "common.testing.travel"]

# What the security and fault suites tried (requests, roles, faults, records scanned), printed at
# the end of the run whatever pytest's output capture hid, and kept beside the dev stack for the
# benchmark report (`make bench` quotes the last run's).
FIGURES: list[str] = []
FIGURES_FILE = "suite-figures.json"


@pytest.fixture(scope="session")
def figures() -> list[str]:
    return FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("what the security and fault suites tried")
        for line in FIGURES:
            terminalreporter.write_line(line)
        passed = not terminalreporter.stats.get("failed") and not terminalreporter.stats.get("error")
        kept = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "passed": passed, "figures": FIGURES}
        path = Layout().devstack / FIGURES_FILE
        if path.parent.is_dir():
            path.write_bytes(orjson.dumps(kept, option=orjson.OPT_INDENT_2))
