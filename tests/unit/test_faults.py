"""Crash points: a process dies at a point only when told to, and a point scoped to a tenant only on
that tenant's work (so a test's crash is never taken by another test's message)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def reach(enabled: str, tenant: str | None) -> int:
    code = (
        "from common.faults import CrashPoints\n"
        f"CrashPoints(frozenset({enabled!r}.split(','))).reach('reminders.after_send', tenant={tenant!r})\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, check=False).returncode


@pytest.mark.parametrize(
    ("enabled", "tenant", "dies"),
    [
        ("reminders.after_send", None, True),
        ("reminders.after_send", "acme", True),
        ("reminders.after_send@acme", "acme", True),
        ("reminders.after_send@acme", "other", False),
        ("reminders.after_send@acme", None, False),
        ("outbox.after_publish", "acme", False),
    ],
)
def test_a_point_crashes_only_where_it_is_enabled(enabled: str, tenant: str | None, dies: bool) -> None:
    assert (reach(enabled, tenant) == 137) is dies
