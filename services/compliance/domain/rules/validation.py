"""The validation notice: sent within N days of the initial communication, or collection stops."""

from __future__ import annotations

from datetime import datetime, timedelta

from compliance.domain.model import AccountState
from compliance.domain.packs import ValidationNoticeRule
from compliance.domain.rules.base import PASS, Context, RuleOutcome, deny


def notice_due(rule: ValidationNoticeRule, state: AccountState) -> datetime | None:
    """When the notice is due, or None when it is sent or no initial communication happened yet."""
    if state.first_contact_at is None or state.validation_notice_sent_at is not None:
        return None
    return state.first_contact_at + timedelta(days=rule.days)


def check_validation_notice(rule: ValidationNoticeRule, ctx: Context) -> RuleOutcome:
    due = notice_due(rule, ctx.state)
    if due is None or ctx.at <= due:
        return PASS
    return deny(
        rule,
        f"no validation notice sent within {rule.days} days of the initial communication "
        f"(due {due.isoformat()}): send it before collecting",
    )
