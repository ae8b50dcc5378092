"""Consent per contact point: SMS consent (re-checked), TCPA prior express consent for autodialed and
prerecorded calls (mobile lines; prerecorded calls to residential lines too), employer e-mail."""

from __future__ import annotations

from datetime import UTC

from compliance.domain.model import Consent
from compliance.domain.packs import ConsentRule, EmployerEmailRule
from compliance.domain.rules.base import PASS, Context, RuleOutcome, deny


def _consent(ctx: Context) -> Consent | None:
    point = ctx.request.contact_point_id
    return None if point is None else ctx.state.consents.get(point)


def _given(consent: Consent, requires: str) -> bool:
    return {"sms": consent.sms, "autodialer": consent.autodialer, "email": consent.email}[requires]


def check_consent(rule: ConsentRule, ctx: Context) -> RuleOutcome:
    consent = _consent(ctx)
    if consent is None:
        return deny(rule, f"no {rule.requires} consent on record for this contact point")
    lines = consent.lines
    if rule.line_types is not None and lines and not lines & set(rule.line_types):
        return PASS  # a phone of unknown line type is treated as one the rule covers
    if not _given(consent, rule.requires):
        return deny(rule, f"the borrower has not consented to {rule.requires} on this contact point")
    if rule.recheck_days is not None:
        checked = consent.consent_checked_at
        today = ctx.at.astimezone(UTC).date()
        if checked is None or (today - checked).days > rule.recheck_days:
            when = "never" if checked is None else f"last on {checked.isoformat()}"
            return deny(
                rule, f"{rule.requires} consent must be re-checked every {rule.recheck_days} days ({when})"
            )
    return PASS


def check_employer_email(rule: EmployerEmailRule, ctx: Context) -> RuleOutcome:
    consent = _consent(ctx)
    if consent is None:
        return deny(rule, "unknown e-mail address: cannot rule out an employer-provided address")
    if consent.employer_email:
        return deny(rule, "the address is provided by the borrower's employer")
    return PASS
