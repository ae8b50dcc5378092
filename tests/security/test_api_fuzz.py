"""schemathesis against each service's OpenAPI: no server error, no response outside the schema, no
status code or content type the document does not give (the common problems are documented on every
operation, see common.problems.document_problems)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from common.auth import Role
from common.devstack.layout import SERVICES
from common.testing.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.security]


def _schemathesis() -> str:
    found = Path(sys.executable).with_name("schemathesis")
    return str(found) if found.exists() else (shutil.which("schemathesis") or "schemathesis")


@pytest.mark.parametrize("service", list(SERVICES))
def test_schemathesis_finds_no_server_error_or_schema_violation(
    stack: Stack, service: str, figures: list[str]
) -> None:
    token = stack.token(tenant=f"fuzz-{service}", role=Role.ADMIN)
    proc = subprocess.run(
        [
            _schemathesis(),
            "run",
            f"{stack.service_urls[service]}/openapi.json",
            "-H",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            "--max-examples",
            os.environ.get("FUZZ_MAX_EXAMPLES", "25"),
            "--seed",
            os.environ.get("FUZZ_SEED", "20261129"),
            "--no-color",
            # An admin's audit verify walks every tenant's chain (about 35,000 entries a second here):
            # on a stack that benchmarks have filled, that is longer than schemathesis' default 10 s.
            "--request-timeout",
            "120",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    generated = re.search(r"(\d+) generated", proc.stdout)
    figures.append(f"schemathesis {service}: {generated.group(1) if generated else '?'} cases, no failure")
