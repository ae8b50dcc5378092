"""Candidate time zones of a borrower: the declared one, and every zone their addresses and phones
may lie in.

Contact rules must hold in every candidate zone (12 CFR 1006.6(b)(1)(i): a time convenient in every
zone the collector knows of), so a declared zone never hides the others: when in doubt a zone is
added, never dropped. Each zone keeps where it came from, so the state a compliance officer reads
says why a borrower is in Pacific time.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from functools import cache
from typing import Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number
from phonenumbers.tzdata import TIMEZONE_DATA

from intake.domain.validation import PhoneNumber


@dataclass(frozen=True, slots=True)
class AddressHint:
    """What an address tells about place: ISO 3166 country, region (state, province), postal code."""

    country: str
    region: str | None
    postal_code: str | None


_EASTERN = "America/New_York"
_CENTRAL = "America/Chicago"
_MOUNTAIN = "America/Denver"
_PACIFIC = "America/Los_Angeles"

# Every zone each state spans, one representative per distinct clock (e.g. Alaska's Juneau and Sitka
# keep Anchorage's time); Navajo Nation in AZ keeps daylight time, hence Denver.
US_STATE_ZONES: dict[str, tuple[str, ...]] = {
    "AL": (_CENTRAL,),
    "AK": ("America/Anchorage", "America/Adak"),
    "AZ": ("America/Phoenix", _MOUNTAIN),
    "AR": (_CENTRAL,),
    "CA": (_PACIFIC,),
    "CO": (_MOUNTAIN,),
    "CT": (_EASTERN,),
    "DE": (_EASTERN,),
    "DC": (_EASTERN,),
    "FL": (_EASTERN, _CENTRAL),
    "GA": (_EASTERN,),
    "HI": ("Pacific/Honolulu",),
    "ID": ("America/Boise", _PACIFIC),
    "IL": (_CENTRAL,),
    "IN": ("America/Indiana/Indianapolis", _CENTRAL),
    "IA": (_CENTRAL,),
    "KS": (_CENTRAL, _MOUNTAIN),
    "KY": ("America/Kentucky/Louisville", _CENTRAL),
    "LA": (_CENTRAL,),
    "ME": (_EASTERN,),
    "MD": (_EASTERN,),
    "MA": (_EASTERN,),
    "MI": ("America/Detroit", "America/Menominee"),
    "MN": (_CENTRAL,),
    "MS": (_CENTRAL,),
    "MO": (_CENTRAL,),
    "MT": (_MOUNTAIN,),
    "NE": (_CENTRAL, _MOUNTAIN),
    "NV": (_PACIFIC, _MOUNTAIN),
    "NH": (_EASTERN,),
    "NJ": (_EASTERN,),
    "NM": (_MOUNTAIN,),
    "NY": (_EASTERN,),
    "NC": (_EASTERN,),
    "ND": (_CENTRAL, _MOUNTAIN),
    "OH": (_EASTERN,),
    "OK": (_CENTRAL,),
    "OR": (_PACIFIC, "America/Boise"),
    "PA": (_EASTERN,),
    "RI": (_EASTERN,),
    "SC": (_EASTERN,),
    "SD": (_CENTRAL, _MOUNTAIN),
    "TN": (_CENTRAL, _EASTERN),
    "TX": (_CENTRAL, _MOUNTAIN),
    "UT": (_MOUNTAIN,),
    "VT": (_EASTERN,),
    "VA": (_EASTERN,),
    "WA": (_PACIFIC,),
    "WV": (_EASTERN,),
    "WI": (_CENTRAL,),
    "WY": (_MOUNTAIN,),
    "PR": ("America/Puerto_Rico",),
}

_US_STATE_NAMES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "washington dc": "DC", "washington d.c.": "DC", "florida": "FL", "georgia": "GA", "hawaii": "HI",
    "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY",
    "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE",
    "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "puerto rico": "PR",
}  # fmt: skip

# A US address without a (known) state: every mainland zone, Alaska and Hawaii.
US_ZONES_WITHOUT_STATE: tuple[str, ...] = (
    _EASTERN,
    _CENTRAL,
    _MOUNTAIN,
    "America/Phoenix",
    _PACIFIC,
    "America/Anchorage",
    "Pacific/Honolulu",
)
_ONE_ZONE_COUNTRIES = {"CN": ("Asia/Shanghai",), "GB": ("Europe/London",)}

# Toll-free, premium, personal and similar numbers reach no particular place.
_PLACELESS_PHONE_KINDS = frozenset({"toll_free", "other"})


ZoneSource = Literal["declared", "address", "phone"]
SOURCES: tuple[ZoneSource, ...] = ("declared", "address", "phone")


def candidate_zones(
    *, declared: str | None, phones: list[PhoneNumber], addresses: list[AddressHint]
) -> dict[str, list[ZoneSource]]:
    """Every zone the borrower may be in, sorted, with its sources: `declared` (already validated)
    and every zone of every address and phone. Empty when nothing is declared or derivable."""
    found: dict[str, set[ZoneSource]] = {}
    if declared is not None:
        found.setdefault(declared, set()).add("declared")
    for address in addresses:
        for zone in address_zones(address):
            found.setdefault(zone, set()).add("address")
    for phone in phones:
        for zone in phone_zones(phone):
            found.setdefault(zone, set()).add("phone")
    return {
        zone: [source for source in SOURCES if source in sources]
        for zone, sources in sorted(found.items())
        if zone == declared or zone in _known_zones()
    }


def address_zones(address: AddressHint) -> tuple[str, ...]:
    """Zones an address may lie in: the state's for the US, the country's elsewhere."""
    country = address.country.strip().upper()
    if country == "US":
        state = us_state_code(address.region)
        return US_STATE_ZONES[state] if state else US_ZONES_WITHOUT_STATE
    return _ONE_ZONE_COUNTRIES.get(country) or _country_zones(country)


def phone_zones(phone: PhoneNumber) -> tuple[str, ...]:
    """Zones of a phone's area (US area code) or country, per `phonenumbers`; none if placeless."""
    if phone.kind in _PLACELESS_PHONE_KINDS:
        return ()
    try:
        parsed = phonenumbers.parse(phone.e164, None)
    except NumberParseException:
        return ()
    return tuple(zone for zone in time_zones_for_number(parsed) if zone != UNKNOWN_TIMEZONE)


def us_state_code(region: str | None) -> str | None:
    """The two-letter code of a US state, DC or PR from its code, `US-` code or name (any case)."""
    if region is None:
        return None
    text = " ".join(region.split()).lower().removeprefix("us-")
    code = text.upper() if text.upper() in US_STATE_ZONES else _US_STATE_NAMES.get(text)
    return code


@cache
def _country_zones(country: str) -> tuple[str, ...]:
    calling_code = phonenumbers.country_code_for_region(country)
    if not calling_code:
        return ()
    prefix = str(calling_code)
    if len(phonenumbers.region_codes_for_country_code(calling_code)) > 1:
        # A shared calling code (+1, +7, +44...) covers several countries: keep this one's prefixes.
        metadata = PhoneMetadata.metadata_for_region(country)
        leading = metadata.leading_digits if metadata else None
        if leading:
            own = re.compile(f"{prefix}(?:{leading})")
            zones = {zone for key, found in TIMEZONE_DATA.items() if own.match(key) for zone in found}
            if zones:
                return tuple(sorted(zones))
    for end in range(len(prefix), 0, -1):
        if prefix[:end] in TIMEZONE_DATA:
            return TIMEZONE_DATA[prefix[:end]]
    return ()


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
