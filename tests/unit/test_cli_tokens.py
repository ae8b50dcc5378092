"""`collectctl token issue`: a token opens only the services its role has business with, unless the
operator names them, and never lives longer than the services accept."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from common.auth import AUDIENCES, AuthError, TokenVerifier, generate_signing_keypair
from common.cli import app

pytestmark = pytest.mark.unit


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    private, public = generate_signing_keypair(tmp_path)
    monkeypatch.setenv("COLLECTCTL_SIGNING_KEY_FILE", str(private))
    return private, public


def issue(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["token", "issue", "--tenant", "acme", *args])
    return result.exit_code, result.output.strip()


@pytest.mark.parametrize(
    ("role", "audience"),
    [
        ("lender", ["intake"]),
        ("agent", ["reminders", "visits", "compliance"]),
        ("ops", list(AUDIENCES)),
        ("compliance", list(AUDIENCES)),
    ],
)
def test_the_role_decides_the_services_by_default(
    keys: tuple[Path, Path], role: str, audience: list[str]
) -> None:
    code, token = issue("--role", role)
    assert code == 0, token
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == audience


def test_a_lenders_token_is_refused_by_compliance(keys: tuple[Path, Path]) -> None:
    _, token = issue("--role", "lender")
    public = keys[1].read_bytes()
    assert TokenVerifier(public, audience="intake").verify(token).tenant == "acme"
    with pytest.raises(AuthError, match="not for the compliance service"):
        TokenVerifier(public, audience="compliance").verify(token)


def test_the_operator_may_name_the_services(keys: tuple[Path, Path]) -> None:
    code, token = issue("--role", "ops", "--aud", "visits")
    assert code == 0
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == ["visits"]
    assert issue("--role", "ops", "--aud", "billing")[0] == 2


def test_a_token_for_a_day_is_refused_at_minting(keys: tuple[Path, Path]) -> None:
    code, _ = issue("--role", "ops", "--ttl", str(24 * 3600))
    assert code != 0
