"""The AsyncAPI 3 document of the platform's events, generated from the event catalogue and the
contract registry: every topic, who sends and who receives on it, every message type and version
with its key, CloudEvents headers and payload schema.

    python -m common.asyncapi > docs/asyncapi.json     (a test keeps the checked-in copy in step)

Every service serves the same document at `/asyncapi.json`.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

import orjson
from pydantic.json_schema import models_json_schema

from common.contracts import Contract, catalog, resolve
from common.contracts.catalog import TOPICS
from common.messaging.envelope import SCHEMA_PREFIX, SPEC_VERSION

VERSION = 1  # every contract is at version 1 today; a v2 would be listed beside it
REF = "#/components/schemas/{model}"

_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes in Kafka binary mode, as UTF-8 header values.",
    "required": [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "ce_dataschema",
        "ce_tenant",
        "content-type",
    ],
    "properties": {
        "ce_specversion": {"type": "string", "const": SPEC_VERSION},
        "ce_id": {
            "type": "string",
            "format": "uuid",
            "description": "the event's id; consumers apply it once",
        },
        "ce_source": {"type": "string", "description": "the publishing service"},
        "ce_type": {"type": "string", "description": "the contract, e.g. account.placed"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_dataschema": {"type": "string", "description": f"{SCHEMA_PREFIX}<type>:<version>"},
        "ce_tenant": {"type": "string", "description": "the lender the event belongs to"},
        "ce_subject": {"type": "string", "format": "uuid", "description": "the account"},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {"type": "string", "description": "W3C trace context of the request that caused it"},
    },
}
_KEY = {
    "type": "string",
    "format": "uuid",
    "description": "the borrower's id: one borrower's events stay in order",
}


def message_id(ce_type: str, version: int = VERSION) -> str:
    return f"{ce_type}.v{version}"


@cache
def document() -> dict[str, Any]:
    types = sorted({ce_type for topic in TOPICS.values() for ce_type in topic.types})
    models: dict[str, type[Contract]] = {t: resolve(t, VERSION) for t in types}
    refs, defs = models_json_schema([(model, "serialization") for model in models.values()], ref_template=REF)
    schemas: dict[str, Any] = {"CloudEventHeaders": _HEADERS, **defs.get("$defs", {})}
    messages: dict[str, Any] = {}
    for ce_type, model in models.items():
        messages[message_id(ce_type)] = {
            "name": ce_type,
            "title": f"{ce_type} v{VERSION}",
            "summary": (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ") or None,
            "contentType": "application/json",
            "headers": {
                "allOf": [
                    {"$ref": REF.format(model="CloudEventHeaders")},
                    {
                        "properties": {
                            "ce_type": {"const": ce_type},
                            "ce_dataschema": {"const": f"{SCHEMA_PREFIX}{ce_type}:{VERSION}"},
                        }
                    },
                ]
            },
            "payload": refs[(model, "serialization")],
            "bindings": {"kafka": {"key": _KEY, "bindingVersion": "0.5.0"}},
        }
        if messages[message_id(ce_type)]["summary"] is None:
            del messages[message_id(ce_type)]["summary"]
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in TOPICS.values():
        own = {message_id(t): {"$ref": f"#/components/messages/{message_id(t)}"} for t in topic.types}
        channels[topic.name] = {
            "address": topic.name,
            "description": topic.description,
            "messages": own,
        }
        refs_here = [{"$ref": f"#/channels/{topic.name}/messages/{m}"} for m in own]
        operations[f"{topic.producer}.sends.{topic.name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic.name}"},
            "summary": f"{topic.producer} publishes through its outbox",
            "messages": refs_here,
        }
        for consumer in topic.consumers:
            operations[f"{consumer}.receives.{topic.name}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{topic.name}"},
                "summary": f"{consumer} applies each event once (its inbox), in the borrower's order",
                "messages": refs_here,
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Collections platform events",
            "version": str(VERSION),
            "description": (catalog.__doc__ or "").strip(),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


@cache
def rendered() -> bytes:
    """The document as checked in: indented, keys in a stable order, a final newline."""
    return orjson.dumps(document(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


if __name__ == "__main__":
    sys.stdout.buffer.write(rendered())
