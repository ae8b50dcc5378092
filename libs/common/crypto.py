"""Field encryption, lookup hashes and masking for personal data (names, ids, phones, e-mails).

Personal data is stored and published as `enc:v1:<kid>:<payload>` tokens sealed with
AES-256-GCM; the key id in each token lets old data decrypt after a key rotation.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENCRYPTED_PREFIX = "enc:v1:"
KEY_BYTES = 32
NONCE_BYTES = 12
# Kids end up inside tokens split on ":", so they stay to a safe alphabet.
_KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_CJK_RE = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ffff]"
)
_EMAIL_STARS = 7


class DecryptionError(Exception):
    """A token could not be opened: tampered, wrong context, unknown key id or malformed."""


@dataclass(frozen=True)
class Keyring:
    """The field-encryption keys: the active key id, every key by id, and the lookup-hash key."""

    active_kid: str
    # Kept out of repr so a keyring in a traceback or log line never shows key material.
    keys: dict[str, bytes] = field(repr=False)
    lookup_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        for kid, key in self.keys.items():
            if not _KID_RE.match(kid):
                raise ValueError(f"keyring: key id {kid!r} must match {_KID_RE.pattern}")
            if len(key) != KEY_BYTES:
                raise ValueError(f"keyring: key {kid!r} must be {KEY_BYTES} bytes, not {len(key)}")
        if self.active_kid not in self.keys:
            raise ValueError(f"keyring: active key id {self.active_kid!r} is not among the keys")
        if len(self.lookup_key) != KEY_BYTES:
            raise ValueError(f"keyring: lookup_key must be {KEY_BYTES} bytes, not {len(self.lookup_key)}")

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """Read and validate a keyring JSON file; raise ValueError saying what is wrong."""
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"keyring: {path.name} is not valid JSON ({exc.msg})") from None
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: Any) -> Keyring:
        """Build a keyring from its JSON shape `{"active", "keys", "lookup_key"}`."""
        if not isinstance(raw, dict):
            raise ValueError("keyring: expected a JSON object")
        active = raw.get("active")
        keys = raw.get("keys")
        lookup = raw.get("lookup_key")
        if not isinstance(active, str) or not active:
            raise ValueError("keyring: 'active' must be a non-empty string")
        if not isinstance(keys, dict) or not keys:
            raise ValueError("keyring: 'keys' must be a non-empty object of kid -> base64 key")
        if not isinstance(lookup, str):
            raise ValueError("keyring: 'lookup_key' must be a base64 string")
        decoded = {str(kid): _b64_key(value, f"keys.{kid}") for kid, value in keys.items()}
        return cls(active_kid=active, keys=decoded, lookup_key=_b64_key(lookup, "lookup_key"))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of this keyring, keys in standard base64."""
        return {
            "active": self.active_kid,
            "keys": {kid: base64.b64encode(key).decode() for kid, key in self.keys.items()},
            "lookup_key": base64.b64encode(self.lookup_key).decode(),
        }


def _b64_key(value: object, label: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"keyring: {label} must be a base64 string")
    try:
        # Accept both alphabets: operators paste keys from different tools.
        return base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
    except binascii.Error:
        raise ValueError(f"keyring: {label} is not valid base64") from None


def _write_private(path: Path, text: str) -> None:
    """Atomically replace `path` with `text`, readable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def generate_keyring_file(path: Path) -> None:
    """Write a fresh random keyring (kid "k1") to `path` with mode 0600, creating parent dirs.

    An existing keyring is kept as is (after validating it): overwriting it would make
    every stored token undecryptable.
    """
    if path.exists():
        Keyring.load(path)
        return
    keyring = Keyring(
        active_kid="k1",
        keys={"k1": secrets.token_bytes(KEY_BYTES)},
        lookup_key=secrets.token_bytes(KEY_BYTES),
    )
    _write_private(path, json.dumps(keyring.to_dict(), indent=2) + "\n")


def rotate_keyring_file(path: Path) -> str:
    """Add a new random key to the keyring at `path`, make it active, and return its kid.

    Old keys stay so existing tokens still decrypt; the lookup key never rotates because
    lookup hashes are stored and compared across the whole history.
    """
    keyring = Keyring.load(path)
    numbers = [int(kid[1:]) for kid in keyring.keys if re.fullmatch(r"k\d+", kid)]
    new_kid = f"k{max(numbers, default=0) + 1}"
    rotated = Keyring(
        active_kid=new_kid,
        keys={**keyring.keys, new_kid: secrets.token_bytes(KEY_BYTES)},
        lookup_key=keyring.lookup_key,
    )
    _write_private(path, json.dumps(rotated.to_dict(), indent=2) + "\n")
    return new_kid


def is_encrypted(value: object) -> bool:
    """True when `value` is a field-encryption token (`enc:v1:...`)."""
    return isinstance(value, str) and value.startswith(ENCRYPTED_PREFIX)


class FieldCipher:
    """Encrypts and decrypts single fields, binding each to a context such as a column name."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._aead = {kid: AESGCM(key) for kid, key in keyring.keys.items()}

    @property
    def active_kid(self) -> str:
        """The key id new tokens are sealed with."""
        return self._keyring.active_kid

    is_encrypted = staticmethod(is_encrypted)

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Seal `plaintext` with the active key; `context` must match again on decrypt."""
        kid = self._keyring.active_kid
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[kid].encrypt(nonce, plaintext.encode("utf-8"), context.encode())
        payload = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
        return f"{ENCRYPTED_PREFIX}{kid}:{payload}"

    def decrypt(self, token: str, *, context: str) -> str:
        """Open a token sealed under any key of the keyring; raise DecryptionError otherwise."""
        if not is_encrypted(token):
            raise DecryptionError("not an enc:v1 token")
        kid, sep, payload = token[len(ENCRYPTED_PREFIX) :].partition(":")
        if not sep or not kid:
            raise DecryptionError("malformed token")
        aead = self._aead.get(kid)
        if aead is None:
            raise DecryptionError(f"unknown key id {kid!r}")
        try:
            blob = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        except (binascii.Error, ValueError):
            raise DecryptionError("malformed token payload") from None
        if len(blob) < NONCE_BYTES + 16:
            raise DecryptionError("malformed token payload")
        try:
            plain = aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise DecryptionError(f"token does not open under context {context!r}") from None
        return plain.decode("utf-8")

    def encrypt_optional(self, plaintext: str | None, *, context: str) -> str | None:
        """Like encrypt, passing None through."""
        return None if plaintext is None else self.encrypt(plaintext, context=context)

    def decrypt_optional(self, token: str | None, *, context: str) -> str | None:
        """Like decrypt, passing None through."""
        return None if token is None else self.decrypt(token, context=context)

    def lookup_hash(self, value: str, *, purpose: str) -> str:
        """Hex HMAC-SHA256 of `value` for equality lookups; callers normalise `value` first."""
        message = f"{purpose}\x00{value}".encode()
        return hmac.digest(self._keyring.lookup_key, message, "sha256").hex()


def mask_phone(phone: str) -> str:
    """Mask a phone number as `+CC 138****8000`: first 3 and last 4 national digits kept.

    National numbers shorter than 9 digits keep only their last 2; unparseable input is
    masked as digits with only the last 2 shown.
    """
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", phone)
        return _keep_last(digits, 2)
    national = phonenumbers.national_significant_number(parsed)
    if len(national) >= 9:
        masked = national[:3] + "*" * (len(national) - 7) + national[-4:]
    else:
        masked = _keep_last(national, 2)
    return f"+{parsed.country_code} {masked}"


def _keep_last(text: str, keep: int) -> str:
    if len(text) <= keep:
        return "*" * len(text)
    return "*" * (len(text) - keep) + text[-keep:]


def mask_name(name: str) -> str:
    """Mask a name: `张三` -> `张*`, `王小明` -> `王*明`, `John Smith` -> `J*** S****`."""
    name = name.strip()
    if _CJK_RE.search(name):
        chars = "".join(name.split())
        if len(chars) <= 1:
            return "*" * len(chars)
        if len(chars) == 2:
            return chars[0] + "*"
        return chars[0] + "*" * (len(chars) - 2) + chars[-1]
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


def mask_national_id(national_id: str) -> str:
    """Mask an id number keeping its first 4 and last 4 characters (all stars if 8 or fewer)."""
    value = national_id.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_email(email: str) -> str:
    """Mask an e-mail as `z*******@example.cn`; a fixed run of stars hides the local part's length."""
    local, sep, domain = email.strip().rpartition("@")
    if not sep or not local:
        return email.strip()[:1] + "*" * _EMAIL_STARS
    return f"{local[0]}{'*' * _EMAIL_STARS}@{domain}"


def mask_address(line: str) -> str:
    """Mask an address line to its first 2 characters followed by `***`."""
    return line.strip()[:2] + "***"
