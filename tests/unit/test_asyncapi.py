"""The event catalogue and the AsyncAPI document generated from it: every contract is carried by a
topic, every reference in the document resolves, the checked-in copy is the generated one, and a
publisher cannot put a type on a topic that does not carry it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

import common.contracts.contact as k
import common.contracts.intake as c
from common.asyncapi import document, message_id, rendered
from common.contracts import CATALOG, registered
from common.contracts.catalog import TOPICS, carries, topics_read_by
from common.messaging.outbox import OutgoingEvent, outbox_row

CHECKED_IN = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def test_every_contract_is_carried_by_a_topic_and_every_topic_carries_only_contracts() -> None:
    carried = {(t, 1) for topic in TOPICS.values() for t in topic.types}
    # the platform's contracts (tests register their own elsewhere)
    platform = {key for key, model in registered().items() if model.__module__ in CATALOG}
    assert carried == platform


def test_the_document_lists_every_topic_type_and_operation() -> None:
    doc = document()
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["channels"]) == set(TOPICS)
    for topic in TOPICS.values():
        channel = doc["channels"][topic.name]
        assert set(channel["messages"]) == {message_id(t) for t in topic.types}
        sends = doc["operations"][f"{topic.producer}.sends.{topic.name}"]
        assert sends["action"] == "send"
        for consumer in topic.consumers:
            assert doc["operations"][f"{consumer}.receives.{topic.name}"]["action"] == "receive"
    placed = doc["components"]["messages"]["account.placed.v1"]
    assert placed["payload"] == {"$ref": "#/components/schemas/AccountPlaced"}
    schema = doc["components"]["schemas"]["AccountPlaced"]
    assert {"account", "borrower", "seq", "lender_event_id"} <= set(schema["properties"])


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_every_reference_resolves() -> None:
    doc = document()
    refs = _refs(doc)
    assert len(refs) > 100
    for ref in refs:
        _resolve(doc, ref)


def test_the_checked_in_document_is_the_generated_one() -> None:
    assert CHECKED_IN.read_bytes() == rendered(), "run: python -m common.asyncapi > docs/asyncapi.json"
    assert orjson.loads(CHECKED_IN.read_bytes()) == orjson.loads(orjson.dumps(document()))


def test_services_read_the_topics_the_catalogue_names() -> None:
    assert topics_read_by("intake") == ["visits.v1"]
    assert topics_read_by("compliance") == ["intake.v1", "reminders.v1", "visits.v1"]
    assert set(topics_read_by("reminders")) == {"intake.v1", "visits.v1", "compliance.v1"}


def test_a_type_cannot_go_onto_a_topic_that_does_not_carry_it() -> None:
    assert carries("reminders.v1", "permit.requested")
    assert not carries("compliance.v1", "permit.requested")
    assert carries("a-test-topic", "permit.requested")  # not one of the platform's
    ids = {"account_id": str(uuid.uuid4()), "borrower_id": str(uuid.uuid4())}
    decided_on_intake = OutgoingEvent(
        topic=c.TOPIC,
        key=ids["borrower_id"],
        data=k.ViolationDetected.model_construct(**ids),
        tenant="t",
        subject=ids["account_id"],
    )
    with pytest.raises(ValueError, match=r"intake\.v1 does not carry violation\.detected"):
        outbox_row(decided_on_intake, source="test")
