"""Dates of the Regulation F validation notice: when the validation period it states ends.

The period ends 30 days after the consumer receives the notice, and a collector may assume receipt on
any date at least five days after sending it, not counting Saturdays, Sundays and legal public
holidays (12 CFR 1006.34(b)(5)). We state the earliest date that rule allows a collector to assume
receipt, plus 30 days, so the consumer never gets fewer days than the law gives.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

RECEIPT_BUSINESS_DAYS = 5
VALIDATION_DAYS = 30


@lru_cache(maxsize=16)
def _legal_holidays(year: int) -> frozenset[date]:
    # The legal public holidays of 5 U.S.C. 6103, with the days they are observed on.
    return frozenset(holidays.country_holidays("US", years=year))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _legal_holidays(day.year)


def assumed_receipt(sent_on: date) -> date:
    """The fifth business day after `sent_on`."""
    day, counted = sent_on, 0
    while counted < RECEIPT_BUSINESS_DAYS:
        day += timedelta(days=1)
        if is_business_day(day):
            counted += 1
    return day


def validation_period_end(sent_on: date) -> date:
    """The last day of the validation period a notice sent on `sent_on` states."""
    return assumed_receipt(sent_on) + timedelta(days=VALIDATION_DAYS)
