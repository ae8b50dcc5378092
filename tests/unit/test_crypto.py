"""Field encryption, keyrings, lookup hashes and masking."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from common.crypto import (
    DecryptionError,
    FieldCipher,
    Keyring,
    generate_keyring_file,
    is_encrypted,
    mask_address,
    mask_email,
    mask_name,
    mask_national_id,
    mask_phone,
    rotate_keyring_file,
)

pytestmark = pytest.mark.unit

CONTEXT = "intake.borrower.name"
KEY = base64.b64encode(bytes(32)).decode()
SHORT = base64.b64encode(bytes(16)).decode()


@pytest.fixture
def keyring_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "field_keys.json"
    generate_keyring_file(path)
    return path


@pytest.fixture
def cipher(keyring_path: Path) -> FieldCipher:
    return FieldCipher(Keyring.load(keyring_path))


def _flip_byte(token: str, index: int) -> str:
    prefix, _, payload = token.rpartition(":")
    blob = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    blob[index] ^= 0x01
    return f"{prefix}:{base64.urlsafe_b64encode(bytes(blob)).rstrip(b'=').decode()}"


class TestKeyringFile:
    def test_generated_file_is_private_and_loads(self, keyring_path: Path) -> None:
        assert stat.S_IMODE(keyring_path.stat().st_mode) == 0o600
        keyring = Keyring.load(keyring_path)
        assert keyring.active_kid == "k1"
        assert len(keyring.keys["k1"]) == 32
        assert len(keyring.lookup_key) == 32

    def test_repr_hides_key_material(self, keyring_path: Path) -> None:
        keyring = Keyring.load(keyring_path)
        assert repr(keyring) == "Keyring(active_kid='k1')"

    def test_generate_keeps_an_existing_keyring(self, keyring_path: Path) -> None:
        before = keyring_path.read_bytes()
        generate_keyring_file(keyring_path)
        assert keyring_path.read_bytes() == before

    def test_rotate_adds_an_active_key_and_keeps_old_ones(self, keyring_path: Path) -> None:
        before = Keyring.load(keyring_path)
        assert rotate_keyring_file(keyring_path) == "k2"
        after = Keyring.load(keyring_path)
        assert after.active_kid == "k2"
        assert after.keys["k1"] == before.keys["k1"]
        assert after.lookup_key == before.lookup_key
        assert stat.S_IMODE(keyring_path.stat().st_mode) == 0o600

    @pytest.mark.parametrize(
        ("document", "message"),
        [
            ({"active": "k2", "keys": {"k1": KEY}, "lookup_key": KEY}, "active key id"),
            ({"active": "k1", "keys": {"k1": SHORT}, "lookup_key": KEY}, "32 bytes"),
            ({"active": "k1", "keys": {"k1": KEY}, "lookup_key": SHORT}, "lookup_key"),
            ({"active": "k1", "keys": {"k1": "not base64!"}, "lookup_key": KEY}, "base64"),
            ({"active": "k1", "keys": {}, "lookup_key": KEY}, "'keys'"),
            ({"keys": {"k1": KEY}, "lookup_key": KEY}, "'active'"),
            ({"active": "k:1", "keys": {"k:1": KEY}, "lookup_key": KEY}, "key id"),
        ],
    )
    def test_invalid_keyring_is_refused_with_a_clear_message(
        self, tmp_path: Path, document: dict[str, object], message: str
    ) -> None:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(document))
        with pytest.raises(ValueError, match=message):
            Keyring.load(path)

    def test_not_json_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.json"
        path.write_text("{")
        with pytest.raises(ValueError, match="not valid JSON"):
            Keyring.load(path)


class TestFieldCipher:
    def test_round_trip(self, cipher: FieldCipher) -> None:
        token = cipher.encrypt("张三", context=CONTEXT)
        assert token.startswith("enc:v1:k1:")
        assert "张三" not in token
        assert cipher.decrypt(token, context=CONTEXT) == "张三"

    def test_same_plaintext_gives_different_tokens(self, cipher: FieldCipher) -> None:
        assert cipher.encrypt("x", context=CONTEXT) != cipher.encrypt("x", context=CONTEXT)

    @pytest.mark.parametrize("index", [0, 11, 12, -1])
    def test_tampering_is_detected(self, cipher: FieldCipher, index: int) -> None:
        token = cipher.encrypt("+8613800138000", context=CONTEXT)
        with pytest.raises(DecryptionError):
            cipher.decrypt(_flip_byte(token, index), context=CONTEXT)

    def test_wrong_context_is_refused(self, cipher: FieldCipher) -> None:
        token = cipher.encrypt("张三", context=CONTEXT)
        with pytest.raises(DecryptionError):
            cipher.decrypt(token, context="intake.borrower.address")

    @pytest.mark.parametrize(
        "token",
        ["plain text", "enc:v1:", "enc:v1:k1", "enc:v1:k1:", "enc:v1:k1:@@@@", "enc:v1:k9:AAAA"],
    )
    def test_malformed_or_unknown_tokens_are_refused(self, cipher: FieldCipher, token: str) -> None:
        with pytest.raises(DecryptionError):
            cipher.decrypt(token, context=CONTEXT)

    def test_another_keyring_cannot_decrypt(self, cipher: FieldCipher, tmp_path: Path) -> None:
        other_path = tmp_path / "other.json"
        generate_keyring_file(other_path)
        token = cipher.encrypt("张三", context=CONTEXT)
        with pytest.raises(DecryptionError):
            FieldCipher(Keyring.load(other_path)).decrypt(token, context=CONTEXT)

    def test_rotation_keeps_old_tokens_readable(self, keyring_path: Path) -> None:
        old_token = FieldCipher(Keyring.load(keyring_path)).encrypt("张三", context=CONTEXT)
        rotate_keyring_file(keyring_path)
        rotated = FieldCipher(Keyring.load(keyring_path))
        assert rotated.decrypt(old_token, context=CONTEXT) == "张三"
        new_token = rotated.encrypt("李四", context=CONTEXT)
        assert new_token.startswith("enc:v1:k2:")
        assert rotated.decrypt(new_token, context=CONTEXT) == "李四"

    def test_optional_passes_none_through(self, cipher: FieldCipher) -> None:
        assert cipher.encrypt_optional(None, context=CONTEXT) is None
        assert cipher.decrypt_optional(None, context=CONTEXT) is None
        token = cipher.encrypt_optional("x", context=CONTEXT)
        assert token is not None
        assert cipher.decrypt_optional(token, context=CONTEXT) == "x"

    def test_is_encrypted(self, cipher: FieldCipher) -> None:
        assert is_encrypted(cipher.encrypt("x", context=CONTEXT))
        assert cipher.is_encrypted(cipher.encrypt("x", context=CONTEXT))
        assert not is_encrypted("张三")
        assert not is_encrypted(None)


class TestLookupHash:
    def test_stable_across_instances_and_rotation(self, keyring_path: Path) -> None:
        first = FieldCipher(Keyring.load(keyring_path)).lookup_hash("+8613800138000", purpose="phone")
        rotate_keyring_file(keyring_path)
        again = FieldCipher(Keyring.load(keyring_path)).lookup_hash("+8613800138000", purpose="phone")
        assert first == again
        assert len(first) == 64
        int(first, 16)

    def test_purposes_are_separated(self, cipher: FieldCipher) -> None:
        value = "11010519491231002X"
        assert cipher.lookup_hash(value, purpose="national_id") != cipher.lookup_hash(value, purpose="phone")

    def test_purpose_and_value_cannot_be_shifted(self, cipher: FieldCipher) -> None:
        assert cipher.lookup_hash("bc", purpose="a") != cipher.lookup_hash("c", purpose="ab")

    def test_different_values_differ(self, cipher: FieldCipher) -> None:
        assert cipher.lookup_hash("a", purpose="p") != cipher.lookup_hash("b", purpose="p")


class TestMasking:
    @pytest.mark.parametrize(
        ("phone", "masked"),
        [
            ("+8613800138000", "+86 138****8000"),
            ("+16502530000", "+1 650***0000"),
            ("+4930123456", "+49 ******56"),
            ("not a phone 12345", "***45"),
        ],
    )
    def test_mask_phone(self, phone: str, masked: str) -> None:
        assert mask_phone(phone) == masked

    @pytest.mark.parametrize(
        ("name", "masked"),
        [
            ("张三", "张*"),
            ("王小明", "王*明"),
            ("欧阳小明", "欧**明"),
            ("John Smith", "J*** S****"),
            ("  Ann  ", "A**"),
            ("", ""),
        ],
    )
    def test_mask_name(self, name: str, masked: str) -> None:
        assert mask_name(name) == masked

    @pytest.mark.parametrize(
        ("national_id", "masked"),
        [("11010519491231002X", "1101**********002X"), ("12345678", "********")],
    )
    def test_mask_national_id(self, national_id: str, masked: str) -> None:
        assert mask_national_id(national_id) == masked

    @pytest.mark.parametrize(
        ("email", "masked"),
        [("zhang.san@example.cn", "z*******@example.cn"), ("a@b.cn", "a*******@b.cn")],
    )
    def test_mask_email(self, email: str, masked: str) -> None:
        assert mask_email(email) == masked

    def test_mask_address(self) -> None:
        assert mask_address("北京市朝阳区建国路88号") == "北京***"
        assert mask_address("12 Baker Street") == "12***"
