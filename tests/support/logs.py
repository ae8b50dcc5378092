"""Reading what a service's log gained since a moment: the fault suite checks why a process died,
the log test that every line is JSON and that one trace runs through the services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


class Tail:
    """What the log at `path` gained since the Tail was made (all of it if the log was rotated)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start = path.stat().st_size if path.exists() else 0

    def read(self) -> bytes:
        with self.path.open("rb") as log:
            log.seek(self.start if log.seek(0, 2) >= self.start else 0)
            return log.read()

    def text(self) -> str:
        return self.read().decode(errors="replace")

    def records(self) -> list[dict[str, Any]]:
        """Every line as JSON; fails on the first that is not."""
        found = []
        for line in self.read().splitlines():
            if not line.strip():
                continue
            try:
                found.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                raise AssertionError(f"{self.path.name}: not a JSON line: {line[:300]!r}") from None
        return found
