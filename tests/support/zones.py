"""Borrowers who are somewhere it is a given hour now, with a mobile number from that place.

Compliance must be satisfied in every zone a borrower may be in: the declared one, and every zone
their addresses and phones lie in. A test that wants the borrower at midday therefore places them
with a phone whose zone is the declared one, and no address elsewhere. Between them the places below
cover every whole UTC offset but -9, -8 and -2, so any window of four hours or more holds one of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers.timezone import time_zones_for_number

# Every number handed out in this test run: a number drawn twice would give one borrower's messages
# to another's test.
_ISSUED: set[str] = set()


@dataclass(frozen=True)
class Place:
    """A zone without daylight saving, and a real mobile number there (its last digits vary)."""

    zone: str
    sample_mobile: str

    def hour(self, now: datetime | None = None) -> int:
        return (now or datetime.now(UTC)).astimezone(ZoneInfo(self.zone)).hour

    def mobile(self) -> str:
        """A valid mobile number of this place that no other test uses (phonenumbers puts it in `zone`)."""
        sample = phonenumbers.parse(self.sample_mobile, None)
        national = str(sample.national_number)
        for _ in range(1_000):
            tail = "".join(random.choice("0123456789") for _ in range(min(5, len(national) - 3)))
            candidate = phonenumbers.parse(f"+{sample.country_code}{national[: -len(tail)]}{tail}", None)
            if phonenumbers.is_valid_number(candidate) and time_zones_for_number(candidate) == (self.zone,):
                number = phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
                if number not in _ISSUED:  # the fault suite alone draws thousands from one place
                    _ISSUED.add(number)
                    return number
        raise AssertionError(f"no fresh mobile number for {self.zone}")


PLACES: tuple[Place, ...] = (
    Place("Pacific/Niue", "+6838884012"),
    Place("Pacific/Honolulu", "+18085550123"),
    Place("America/Phoenix", "+16025550123"),
    Place("America/Costa_Rica", "+50683123456"),
    Place("America/Bogota", "+573211234567"),
    Place("America/La_Paz", "+59171234567"),
    Place("America/Buenos_Aires", "+5491123456789"),
    Place("Atlantic/Cape_Verde", "+2389911234"),
    Place("Africa/Accra", "+233231234567"),
    Place("Africa/Lagos", "+2348021234567"),
    Place("Africa/Johannesburg", "+27711234567"),
    Place("Africa/Kampala", "+256712345678"),
    Place("Asia/Tbilisi", "+995555123456"),
    Place("Asia/Tashkent", "+998912345678"),
    Place("Asia/Dhaka", "+8801812345678"),
    Place("Asia/Ho_Chi_Minh", "+84912345678"),
    Place("Asia/Shanghai", "+8613812345678"),
    Place("Asia/Seoul", "+821020000000"),
    Place("Pacific/Port_Moresby", "+67570123456"),
    Place("Pacific/Guadalcanal", "+6777421234"),
    Place("Pacific/Fiji", "+6797012345"),
    Place("Pacific/Tongatapu", "+6767715123"),
)
BY_ZONE = {place.zone: place for place in PLACES}


def place_at(hours: range, now: datetime | None = None) -> Place:
    """A place whose clock reads one of `hours` now (a window of four hours or more always has one)."""
    for place in PLACES:
        if place.hour(now) in hours:
            return place
    raise AssertionError(f"no place reads {hours} at {now}")


def local_mobile(zone: str) -> str:
    """A fresh mobile number whose only zone is `zone` (one of PLACES)."""
    return BY_ZONE[zone].mobile()
