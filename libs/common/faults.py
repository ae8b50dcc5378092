"""Named crash points for the fault suite: a process told to crash at a point dies there, as kill -9 would.

Enabled only through settings (`<SERVICE>_FAULTS=outbox.after_publish`), which production refuses.
"""

from __future__ import annotations

import os
import sys


class CrashPoints:
    def __init__(self, enabled: frozenset[str] = frozenset()) -> None:
        self._enabled = enabled

    def reach(self, point: str) -> None:
        """Die at once, without cleanup or flushing, if this point is enabled."""
        if point in self._enabled:
            sys.stderr.write(f"crash point reached: {point}\n")
            sys.stderr.flush()
            os._exit(137)


NO_CRASHES = CrashPoints()
