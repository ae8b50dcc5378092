"""The whole suite shares one stack (see common.testing.stack); unit tests never ask for it."""

from __future__ import annotations

import pytest

pytest_plugins = ["common.testing.stack", "common.testing.travel"]

# What the security and fault suites tried (requests, roles, faults, records scanned), printed at
# the end of the run whatever pytest's output capture hid.
FIGURES: list[str] = []


@pytest.fixture(scope="session")
def figures() -> list[str]:
    return FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("what the security and fault suites tried")
        for line in FIGURES:
            terminalreporter.write_line(line)
