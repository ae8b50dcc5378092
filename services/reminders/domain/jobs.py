"""The reminder job state machine and the checks a job passes before it may ask for a permit or send.

planned ─(due)─> awaiting_permit ─allow─> sending ─> sent | failed
                        │ defer ──> deferred ─(not_before)─> awaiting_permit
                        └ deny ───> denied
any pending state ─(paid, recalled, disputed, ceased, held, opted out)─> cancelled
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

PENDING = ("planned", "awaiting_permit", "deferred", "sending")
FINAL = ("sent", "failed", "denied", "cancelled")
STATES = PENDING + FINAL

# Holds that stop every reminder of an account (SPEC section 5: "Everywhere").
STOPPING_HOLDS = frozenset({"dispute", "cease_communication", "attorney", "bankruptcy", "deceased", "closed"})
# Holds that pause the ladder where a jurisdiction says so and send the account to a person: in GB a
# vulnerable customer is reviewed before any automated contact (FCA CONC 7.2.1R(2), FG21/1).
PAUSING_HOLDS = {"GB": frozenset({"vulnerable"})}
# The channel a job's permit is asked for.
PERMIT_CHANNEL = {
    "sms": "sms",
    "email": "email",
    "push": "push",
    "letter": "letter",
    "voice": "voice_call",
    "call_task": "voice_call",
}
# A dispute pauses collection, not the validation notice: it tells the borrower how to dispute.
NOTICE_GOES_THROUGH = frozenset({"dispute"})
# A permit must have this much life left when the send starts, or a fresh one is asked for.
PERMIT_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True)
class AccountView:
    """What reminders knows of an account when it is about to act on a job."""

    status: str
    holds: frozenset[str]
    opted_out: frozenset[str]
    balance_minor: int
    jurisdiction: str = ""


def pausing_holds(jurisdiction: str, holds: frozenset[str]) -> list[str]:
    """The holds that pause this account's ladder for review, in its jurisdiction."""
    return sorted(holds & PAUSING_HOLDS.get(jurisdiction.split("-", 1)[0], frozenset()))


def stop_reason(account: AccountView, channel: str, purpose: str = "collection") -> str | None:
    """Why a job of this account may not go ahead on `channel` now, or None."""
    if account.status != "open" or account.balance_minor <= 0:
        return "the account is closed or paid"
    stopping = STOPPING_HOLDS - NOTICE_GOES_THROUGH if purpose == "validation_notice" else STOPPING_HOLDS
    held = sorted(account.holds & stopping)
    if held:
        return f"the account is on hold: {', '.join(held)}"
    paused = pausing_holds(account.jurisdiction, account.holds)
    if paused:
        return f"the ladder is paused for review: {', '.join(paused)}"
    if PERMIT_CHANNEL.get(channel, channel) in account.opted_out or channel in account.opted_out:
        return f"the borrower opted out of {channel}"
    return None


def permit_usable(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and now + PERMIT_MARGIN < expires_at


def cancellable(states: Iterable[str]) -> list[str]:
    return [s for s in states if s in PENDING]
