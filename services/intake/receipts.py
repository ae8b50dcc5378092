"""Money taken at the door: a receipt in `visit.completed` (visits.v1) is recorded here as the
tenant's payment, through the same path as a lender's `payment.received`, so its effects (balance,
closing a paid account, stopping every reminder and visit) are the same. The receipt id is the
lender event id: a receipt redelivered or replayed is recorded once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.visits as v
from common.clock import Clock
from common.crypto import FieldCipher
from common.messaging.consumer import EventRouter
from common.messaging.envelope import Event
from intake import handlers, repository

log = structlog.get_logger(__name__)


@dataclass
class Keys:
    """Filled in at startup: the consumer's handlers are built before the runtime exists."""

    cipher: FieldCipher | None = None


def build_router(clock: Clock, keys: Keys) -> EventRouter:
    router = EventRouter()

    @router.on("visit.completed")
    async def completed(session: AsyncSession, event: Event[v.VisitCompleted]) -> None:
        receipt = event.data.receipt
        if receipt is None:
            return
        assert keys.cipher is not None, "intake's cipher is set at startup"
        tenant = event.envelope.tenant
        account = await repository.account_view(session, uuid.UUID(event.data.account_id))
        if account is None or account.tenant != tenant:
            log.warning("receipt for an account intake does not hold", visit_id=event.data.visit_id)
            return
        line = handlers.parse_line(
            1,
            orjson.dumps(
                {
                    "event_id": f"visit-receipt:{receipt.receipt_id}",
                    "type": "payment.received",
                    "occurred_at": receipt.paid_at.isoformat(),
                    "account": {"external_account_id": account.external_account_id},
                    "payment": {
                        "amount_minor": receipt.amount_minor,
                        "paid_at": receipt.paid_at.isoformat(),
                        "reference": f"{receipt.method} receipt {receipt.number}",
                    },
                }
            ),
        )
        await handlers.ingest(session, cipher=keys.cipher, tenant=tenant, lines=[line], now=clock.now())
        if line.status == "rejected":
            # Kept in the log for a person; the visit and its receipt stay recorded in visits.
            log.warning("receipt not recorded as a payment", visit_id=event.data.visit_id, errors=line.errors)

    return router
