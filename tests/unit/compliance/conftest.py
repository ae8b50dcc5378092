from __future__ import annotations

import pytest

from compliance.domain.packs import Pack, load_all


@pytest.fixture(scope="session")
def packs() -> dict[str, Pack]:
    return load_all()
