"""The event catalogue: each topic, the one service that publishes on it, the contracts it carries and
the services that read it. The services subscribe from it, a publisher refuses a type its topic does
not carry (common.messaging.outbox), and the AsyncAPI document is generated from it
(common.asyncapi, checked in as docs/asyncapi.json).

Every topic is keyed by the borrower's id, so one borrower's events keep their order; the CloudEvents
attributes travel as `ce_*` headers (binary mode) and the payload is the contract's JSON. Events no
consumer could apply go to `<topic>.dlq` with the reason and their origin in `dlq_*` headers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str
    types: tuple[str, ...]
    consumers: tuple[str, ...]
    description: str


TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        Topic(
            name="intake.v1",
            producer="intake",
            types=(
                "account.placed",
                "account.updated",
                "payment.received",
                "account.closed",
                "dispute.opened",
                "dispute.resolved",
                "hold.set",
                "hold.cleared",
                "borrower.contact_changed",
                "borrower.preferences_changed",
                "contact.reported",
                "borrower.erased",
            ),
            consumers=("compliance", "reminders", "visits"),
            description="What lenders told us, validated, with personal data sealed; each event numbered"
            " in its borrower's sequence (`seq`).",
        ),
        Topic(
            name="reminders.v1",
            producer="reminders",
            types=(
                "permit.requested",
                "contact.attempted",
                "optout.received",
                "promise.made",
                "promise.kept",
                "promise.broken",
                "plan.created",
                "plan.installment_missed",
                "plan.completed",
                "collection.escalated",
            ),
            consumers=("compliance", "visits"),
            description="Reminders' permit requests, every contact made or received, opt-outs, promises,"
            " plans and escalations to the field.",
        ),
        Topic(
            name="visits.v1",
            producer="visits",
            types=(
                "visit.scheduled",
                "visit.checked_in",
                "visit.completed",
                "visit.cancelled",
                "permit.requested",
                "contact.attempted",
                "promise.made",
            ),
            consumers=("compliance", "intake", "reminders"),
            description="A field visit's life, its permit requests and contacts, promises made at the"
            " door; receipts of money taken become payments in intake.",
        ),
        Topic(
            name="compliance.v1",
            producer="compliance",
            types=("permit.decided", "violation.detected"),
            consumers=("reminders", "visits"),
            description="Every permit decision with its reasons, and contacts found made against the rules.",
        ),
    )
}


def topics_read_by(service: str) -> list[str]:
    """The topics `service` subscribes to, in the catalogue's order."""
    return [t.name for t in TOPICS.values() if service in t.consumers]


def carries(topic: str, ce_type: str) -> bool:
    """True when `topic` carries `ce_type`, or is not one of the platform's (a test's own topic)."""
    found = TOPICS.get(topic)
    return found is None or ce_type in found.types
