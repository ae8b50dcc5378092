"""The engine's own version, recorded with every decision beside the pack versions.

A pack's version tag says which rules decided; this says which code read them. `ENGINE` is the
release name and a fingerprint of the source of everything that decides (engine, rules, time
arithmetic, the model and the pack schema), so a decision replayed by different code says so even
when nobody remembered to bump the release. Lint, the audit chain's form and the service layer are
not part of it: they do not change what a permit says.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

RELEASE: Final = "2026.12.1"

_HERE = Path(__file__).parent
DECIDING_SOURCES: Final[tuple[Path, ...]] = tuple(
    sorted(
        [
            *(_HERE / name for name in ("engine.py", "localtime.py", "model.py", "packs.py", "ledger.py")),
            *(_HERE / "rules").glob("*.py"),
        ]
    )
)


def fingerprint(sources: tuple[Path, ...] = DECIDING_SOURCES, root: Path = _HERE) -> str:
    """SHA-256 over each deciding source's path (below `root`) and bytes."""
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


ENGINE: Final = f"{RELEASE}+{fingerprint()[:12]}"
