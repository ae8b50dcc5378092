"""The audit chain: hashing, verification of altered, removed and reordered entries, signed exports."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.domain.audit import (
    GENESIS,
    AuditEntry,
    Checkpoint,
    canonical_json,
    chain_entry,
    checkpoint_line,
    entry_hash,
    entry_line,
    sign_checkpoint,
    verify_chain,
    verify_checkpoint,
    verify_export,
)

pytestmark = pytest.mark.unit

AT = "2025-03-01T12:00:00+00:00"


def key_pair() -> tuple[bytes, bytes]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    return key_pair()


def build_chain(n: int = 50) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        body = {"account_id": f"acc-{seq % 7}", "outcome": "allow", "reasons": [], "note": "允许"}
        entry = chain_entry(
            seq=seq,
            prev_hash=prev,
            kind="permit.decided",
            recorded_at=f"2025-03-01T12:{seq:02d}:00Z",
            body=body,
        )
        entries.append(entry)
        prev = entry.hash
    return entries


def export(entries: list[AuditEntry], checkpoint: Checkpoint | None) -> list[bytes]:
    lines = [canonical_json(entry_line(e)) + b"\n" for e in entries]
    if checkpoint is not None:
        lines.append(canonical_json(checkpoint_line(checkpoint)) + b"\n")
    return lines


def signed_export(entries: list[AuditEntry], private: bytes) -> list[bytes]:
    last = entries[-1]
    return export(entries, sign_checkpoint(private, seq=last.seq, head=last.hash, at=AT))


class TestHashing:
    def test_canonical_json_is_sorted_compact_utf8(self) -> None:
        assert (
            canonical_json({"b": 1, "a": {"d": [1, 2], "c": "催收"}})
            == '{"a":{"c":"催收","d":[1,2]},"b":1}'.encode()
        )

    @settings(max_examples=500)
    @given(
        st.recursive(
            st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text(),
            lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
            max_leaves=30,
        )
    )
    def test_canonical_json_is_the_standard_librarys_form(self, value: object) -> None:
        # Entries hashed before the chain moved to orjson verify the same: the bytes did not change.
        expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        assert canonical_json(value) == expected

    def test_canonical_json_refuses_datetimes(self) -> None:
        with pytest.raises(TypeError):
            canonical_json({"at": datetime.now(UTC)})

    def test_entry_hash_is_sha256_of_the_canonical_content(self) -> None:
        content = {"seq": 1, "prev": GENESIS, "kind": "k", "at": AT, "body": {"x": 1}}
        expected = hashlib.sha256(canonical_json(content)).hexdigest()

        assert entry_hash(seq=1, prev_hash=GENESIS, kind="k", recorded_at=AT, body={"x": 1}) == expected

    def test_entry_hash_ignores_key_order(self) -> None:
        one = entry_hash(seq=1, prev_hash=GENESIS, kind="k", recorded_at=AT, body={"a": 1, "b": 2})
        two = entry_hash(seq=1, prev_hash=GENESIS, kind="k", recorded_at=AT, body={"b": 2, "a": 1})

        assert one == two


class TestVerifyChain:
    def test_intact_chain(self) -> None:
        entries = build_chain()

        result = verify_chain(entries)

        assert (result.ok, result.entries, result.head) == (True, 50, entries[-1].hash)
        assert result.first_bad_seq is None
        assert result.problem is None

    def test_empty_chain(self) -> None:
        assert verify_chain([]) == verify_chain(iter([]))
        assert verify_chain([]).ok
        assert verify_chain([]).head is None

    def test_accepts_a_one_pass_stream(self) -> None:
        def stream() -> Iterator[AuditEntry]:
            yield from build_chain()

        assert verify_chain(stream()).entries == 50

    @pytest.mark.parametrize("seq", [1, 17, 49, 50])
    def test_altered_body(self, seq: int) -> None:
        entries = build_chain()
        altered = entries[seq - 1]
        entries[seq - 1] = dataclasses.replace(altered, body={**altered.body, "outcome": "deny"})

        result = verify_chain(entries)

        assert not result.ok
        assert result.first_bad_seq == seq
        assert result.entries == seq - 1
        assert "altered" in (result.problem or "")

    @pytest.mark.parametrize("field", ["kind", "recorded_at", "prev_hash", "hash"])
    def test_altered_field(self, field: str) -> None:
        entries = build_chain()
        entries[9] = dataclasses.replace(entries[9], **{field: "f" * 64})

        assert verify_chain(entries).first_bad_seq == 10

    @pytest.mark.parametrize("seq", [1, 2, 17, 49])
    def test_removed_entry_reports_the_next_seq(self, seq: int) -> None:
        entries = build_chain()
        del entries[seq - 1]

        result = verify_chain(entries)

        assert not result.ok
        assert result.first_bad_seq == seq + 1
        assert "removed" in (result.problem or "")

    def test_removed_entries_renumbered_are_found_by_the_links(self) -> None:
        entries = build_chain()
        del entries[20]
        renumbered = entries[:20] + [dataclasses.replace(e, seq=e.seq - 1) for e in entries[20:]]

        assert verify_chain(renumbered).first_bad_seq == 21

    @pytest.mark.parametrize(("i", "j"), [(10, 11), (10, 20), (1, 2), (49, 50)])
    def test_swapped_entries_report_the_first_swapped_position(self, i: int, j: int) -> None:
        entries = build_chain()
        entries[i - 1], entries[j - 1] = entries[j - 1], entries[i - 1]

        result = verify_chain(entries)

        assert not result.ok
        assert result.first_bad_seq == i
        assert "reordered" in (result.problem or "")

    def test_swapped_contents_under_the_same_seq_numbers(self) -> None:
        entries = build_chain()
        a, b = entries[9], entries[10]
        entries[9] = dataclasses.replace(b, seq=a.seq)
        entries[10] = dataclasses.replace(a, seq=b.seq)

        assert verify_chain(entries).first_bad_seq == 10

    def test_duplicated_entry(self) -> None:
        entries = build_chain()
        entries.insert(5, entries[4])

        assert verify_chain(entries).first_bad_seq == 6

    def test_a_full_chain_must_start_on_genesis(self) -> None:
        entries = build_chain()
        entries[0] = chain_entry(seq=1, prev_hash="1" * 64, kind="k", recorded_at=AT, body={})

        assert verify_chain(entries).first_bad_seq == 1

    def test_partial_chain_is_anchored_on_its_first_entry(self) -> None:
        tail = build_chain()[19:]

        assert verify_chain(tail, partial=True).ok
        assert verify_chain(tail).first_bad_seq == 20

    def test_rewritten_history_needs_a_checkpoint_to_be_caught(self) -> None:
        entries = build_chain()
        forged = entries[:30]
        for e in entries[30:]:
            forged.append(
                chain_entry(seq=e.seq, prev_hash=forged[-1].hash, kind=e.kind, recorded_at=AT, body={})
            )

        assert verify_chain(forged).ok
        assert verify_chain(forged).head != entries[-1].hash


class TestCheckpoint:
    def test_sign_and_verify(self, keys: tuple[bytes, bytes]) -> None:
        private, public = keys

        cp = sign_checkpoint(private, seq=50, head="a" * 64, at=AT)

        assert verify_checkpoint(public, cp)
        raw = serialization.load_pem_public_key(public).public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        assert cp.key_id == hashlib.sha256(raw).hexdigest()[:16]

    @pytest.mark.parametrize(
        "change", [{"seq": 49}, {"head": "b" * 64}, {"at": "2025-03-02T00:00:00Z"}, {"key_id": "0" * 16}]
    )
    def test_any_change_breaks_the_signature(
        self, keys: tuple[bytes, bytes], change: dict[str, object]
    ) -> None:
        private, public = keys
        cp = sign_checkpoint(private, seq=50, head="a" * 64, at=AT)

        assert not verify_checkpoint(public, dataclasses.replace(cp, **change))

    @pytest.mark.parametrize("signature", ["not base64!", base64.b64encode(bytes(64)).decode()])
    def test_forged_signature(self, keys: tuple[bytes, bytes], signature: str) -> None:
        private, public = keys
        cp = sign_checkpoint(private, seq=50, head="a" * 64, at=AT)

        assert not verify_checkpoint(public, dataclasses.replace(cp, signature_b64=signature))

    def test_other_key(self, keys: tuple[bytes, bytes]) -> None:
        other_private, _ = key_pair()
        _, public = keys
        cp = sign_checkpoint(other_private, seq=50, head="a" * 64, at=AT)

        assert not verify_checkpoint(public, cp)
        relabelled = dataclasses.replace(cp, key_id=sign_checkpoint(keys[0], seq=1, head="", at="").key_id)
        assert not verify_checkpoint(public, relabelled)

    def test_only_ed25519_keys(self) -> None:
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

        with pytest.raises(ValueError, match="Ed25519"):
            sign_checkpoint(pem, seq=1, head=GENESIS, at=AT)

    def test_checkpoint_line(self, keys: tuple[bytes, bytes]) -> None:
        legacy = sign_checkpoint(keys[0], seq=3, head="c" * 64, at=AT)
        tenants = sign_checkpoint(keys[0], seq=3, head="c" * 64, at=AT, chain="acme")

        assert checkpoint_line(legacy) == {
            "checkpoint": {k: v for k, v in dataclasses.asdict(legacy).items() if k != "chain"}
        }
        assert checkpoint_line(tenants) == {"checkpoint": dataclasses.asdict(tenants)}

    def test_a_checkpoint_is_bound_to_its_tenants_chain(self, keys: tuple[bytes, bytes]) -> None:
        cp = sign_checkpoint(keys[0], seq=3, head="c" * 64, at=AT, chain="acme")

        assert verify_checkpoint(keys[1], cp)
        # The same head presented as another tenant's, or as the legacy chain's, is not signed.
        assert not verify_checkpoint(keys[1], dataclasses.replace(cp, chain="other"))
        assert not verify_checkpoint(keys[1], dataclasses.replace(cp, chain=None))


def tenant_chain(tenants: list[str]) -> list[AuditEntry]:
    """A chain whose entries name these tenants in turn (a tenant's chain names one)."""
    entries: list[AuditEntry] = []
    prev = GENESIS
    for seq, tenant in enumerate(tenants, start=1):
        body = {"tenant": tenant, "content_sha256": hashlib.sha256(str(seq).encode()).hexdigest()}
        entries.append(chain_entry(seq=seq, prev_hash=prev, kind="event", recorded_at=AT, body=body))
        prev = entries[-1].hash
    return entries


class TestVerifyExport:
    def test_a_tenants_export_verifies_against_its_chains_checkpoint(self, keys: tuple[bytes, bytes]) -> None:
        entries = tenant_chain(["acme"] * 5)
        cp = sign_checkpoint(keys[0], seq=5, head=entries[-1].hash, at=AT, chain="acme")

        assert verify_export(export(entries, cp), keys[1]).ok

    @pytest.mark.parametrize(("tenants", "bad"), [(["acme", "acme", "other"], 3), (["other", "other"], 1)])
    def test_another_tenants_entry_in_a_tenants_chain_is_found(
        self, keys: tuple[bytes, bytes], tenants: list[str], bad: int
    ) -> None:
        entries = tenant_chain(tenants)
        cp = sign_checkpoint(keys[0], seq=len(tenants), head=entries[-1].hash, at=AT, chain="acme")

        result = verify_export(export(entries, cp), keys[1])

        assert not result.ok
        assert result.first_bad_seq == bad, result

    def test_full_export(self, keys: tuple[bytes, bytes]) -> None:
        entries = build_chain()

        result = verify_export(signed_export(entries, keys[0]), keys[1])

        assert (result.ok, result.entries, result.head) == (True, 50, entries[-1].hash)

    def test_partial_export_with_its_checkpoint(self, keys: tuple[bytes, bytes]) -> None:
        window = build_chain()[19:35]

        result = verify_export(signed_export(window, keys[0]), keys[1])

        assert (result.ok, result.entries, result.head) == (True, 16, window[-1].hash)

    def test_export_cut_short_of_its_checkpoint(self, keys: tuple[bytes, bytes]) -> None:
        lines = signed_export(build_chain(), keys[0])
        del lines[35:50]

        result = verify_export(lines, keys[1])

        assert not result.ok
        assert result.first_bad_seq == 36

    def test_altered_last_entry(self, keys: tuple[bytes, bytes]) -> None:
        entries = build_chain()
        lines = signed_export(entries, keys[0])
        last = entries[-1]
        lines[49] = canonical_json(entry_line(dataclasses.replace(last, body={"outcome": "deny"}))) + b"\n"

        assert verify_export(lines, keys[1]).first_bad_seq == 50

    def test_rewritten_history_fails_against_the_checkpoint(self, keys: tuple[bytes, bytes]) -> None:
        entries = build_chain()
        checkpoint = sign_checkpoint(keys[0], seq=50, head=entries[-1].hash, at=AT)
        replacement = chain_entry(seq=50, prev_hash=entries[48].hash, kind="k", recorded_at=AT, body={})
        forged = [*entries[:49], replacement]

        result = verify_export(export(forged, checkpoint), keys[1])

        assert not result.ok
        assert result.first_bad_seq == 50

    def test_altered_entry_in_an_export(self, keys: tuple[bytes, bytes]) -> None:
        lines = signed_export(build_chain(), keys[0])
        lines[9] = lines[9].replace(b'"allow"', b'"deny"')

        assert verify_export(lines, keys[1]).first_bad_seq == 10

    def test_removed_entry_in_an_export(self, keys: tuple[bytes, bytes]) -> None:
        lines = signed_export(build_chain(), keys[0])
        del lines[1]

        assert verify_export(lines, keys[1]).first_bad_seq == 3

    def test_forged_checkpoint_signature(self, keys: tuple[bytes, bytes]) -> None:
        entries = build_chain()
        good = sign_checkpoint(keys[0], seq=50, head=entries[-1].hash, at=AT)
        forged = dataclasses.replace(good, signature_b64=base64.b64encode(b"\x01" * 64).decode())

        result = verify_export(export(entries, forged), keys[1])

        assert not result.ok
        assert "signature" in (result.problem or "")

    def test_checkpoint_signed_by_another_key(self, keys: tuple[bytes, bytes]) -> None:
        entries = build_chain()
        other_private, _ = key_pair()

        assert not verify_export(signed_export(entries, other_private), keys[1]).ok

    def test_missing_checkpoint(self, keys: tuple[bytes, bytes]) -> None:
        result = verify_export(export(build_chain(), None), keys[1])

        assert not result.ok
        assert result.problem == "export has no checkpoint"

    def test_entries_after_the_checkpoint(self, keys: tuple[bytes, bytes]) -> None:
        entries = build_chain()
        lines = signed_export(entries[:10], keys[0]) + export(entries[10:11], None)

        result = verify_export(lines, keys[1])

        assert not result.ok
        assert result.first_bad_seq == 11

    @pytest.mark.parametrize("garbage", [b"not json\n", b"[1, 2]\n", b'{"seq": "7"}\n'])
    def test_malformed_line(self, keys: tuple[bytes, bytes], garbage: bytes) -> None:
        lines = signed_export(build_chain(), keys[0])
        lines.insert(6, garbage)

        result = verify_export(lines, keys[1])

        assert not result.ok
        assert result.first_bad_seq == 7
        assert (result.problem or "").startswith("line 7")

    def test_blank_lines_are_ignored(self, keys: tuple[bytes, bytes]) -> None:
        lines = signed_export(build_chain(5), keys[0])

        assert verify_export([b"\n", *lines, b"\n"], keys[1]).ok
