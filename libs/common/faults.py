"""Named crash points for the fault suite: a process told to crash at a point dies there, as kill -9 would.

Enabled only through settings (`<SERVICE>_FAULTS=outbox.after_publish`), which production refuses.
A point may be scoped to one tenant (`reminders.after_send@acme`): a test then crashes the shared
service on its own work only, never on another test's that happens to pass the point first.
"""

from __future__ import annotations

import json
import os
import sys


class CrashPoints:
    def __init__(self, enabled: frozenset[str] = frozenset()) -> None:
        self._enabled = enabled

    def reach(self, point: str, *, tenant: str | None = None) -> None:
        """Die at once, without cleanup or flushing, if this point is enabled (for this tenant)."""
        if point in self._enabled or (tenant is not None and f"{point}@{tenant}" in self._enabled):
            # One JSON line like every other (the process dies before its logger could write it).
            sys.stderr.write(
                json.dumps({"event": f"crash point reached: {point}", "level": "critical"}) + "\n"
            )
            sys.stderr.flush()
            os._exit(137)


NO_CRASHES = CrashPoints()
