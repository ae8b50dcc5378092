"""Candidate time zones: the declared one and every zone of the addresses and phones, with sources."""

from __future__ import annotations

import zoneinfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from intake.domain.timezones import (
    US_STATE_ZONES,
    US_ZONES_WITHOUT_STATE,
    AddressHint,
    address_zones,
    candidate_zones,
    phone_zones,
    us_state_code,
)
from intake.domain.validation import US_STATE_CODES, PhoneNumber, normalise_phone

pytestmark = pytest.mark.unit

IANA = zoneinfo.available_timezones()
US_ALL = sorted(US_ZONES_WITHOUT_STATE)


def phone(raw: str) -> PhoneNumber:
    return normalise_phone(raw, region=None, field="phone")


def address(country: str, region: str | None = None) -> AddressHint:
    return AddressHint(country=country, region=region, postal_code=None)


def zones_of(*, phones: tuple[PhoneNumber, ...] = (), addresses: tuple[AddressHint, ...] = ()) -> list[str]:
    return list(candidate_zones(declared=None, phones=list(phones), addresses=list(addresses)))


def test_spec_example_new_york_number_living_in_honolulu() -> None:
    zones = candidate_zones(declared=None, phones=[phone("+12125550123")], addresses=[address("US", "HI")])
    assert zones == {"America/New_York": ["phone"], "Pacific/Honolulu": ["address"]}


def test_a_declared_zone_never_hides_the_address_and_phone_zones() -> None:
    # 12 CFR 1006.6(b)(1)(i): a California resident declared as New York is in both.
    zones = candidate_zones(
        declared="America/New_York", phones=[phone("+12125550123")], addresses=[address("US", "CA")]
    )
    assert zones == {"America/Los_Angeles": ["address"], "America/New_York": ["declared", "phone"]}


def test_nothing_to_derive_from_gives_no_candidates() -> None:
    assert candidate_zones(declared=None, phones=[], addresses=[]) == {}
    assert candidate_zones(declared="Asia/Tokyo", phones=[], addresses=[]) == {"Asia/Tokyo": ["declared"]}


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (address("CN", "广东"), ["Asia/Shanghai"]),
        (address("cn"), ["Asia/Shanghai"]),
        (address("GB", "London"), ["Europe/London"]),
        (address("US", "IN"), ["America/Chicago", "America/Indiana/Indianapolis"]),
        (address("US", "TX"), ["America/Chicago", "America/Denver"]),
        (address("US", "FL"), ["America/Chicago", "America/New_York"]),
        (address("US", "HI"), ["Pacific/Honolulu"]),
        (address("US", "AK"), ["America/Adak", "America/Anchorage"]),
        (address("US", "AZ"), ["America/Denver", "America/Phoenix"]),
        (address("US", "CA"), ["America/Los_Angeles"]),
        (address("US", "MA"), ["America/New_York"]),
        (address("US", "DC"), ["America/New_York"]),
        (address("US", "PR"), ["America/Puerto_Rico"]),
        (address("US", "hawaii"), ["Pacific/Honolulu"]),
        (address("US", "  New   York "), ["America/New_York"]),
        (address("US", "ny"), ["America/New_York"]),
        (address("US", "US-CA"), ["America/Los_Angeles"]),
        (address("US", "District of Columbia"), ["America/New_York"]),
        (address("US"), US_ALL),
        (address("US", ""), US_ALL),
        (address("US", "Ontario"), US_ALL),
        (address("PR"), ["America/Puerto_Rico"]),
        (address("FR"), ["Europe/Paris"]),
        (address("JP"), ["Asia/Tokyo"]),
        (address("XX"), []),
    ],
)
def test_zones_of_an_address(hint: AddressHint, expected: list[str]) -> None:
    assert zones_of(addresses=(hint,)) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+8613800138000", ["Asia/Shanghai"]),
        ("+12125550123", ["America/New_York"]),
        ("+13125550100", ["America/Chicago"]),
        ("+16502530000", ["America/Los_Angeles"]),
        ("+18085550100", ["Pacific/Honolulu"]),
        ("+19075550123", ["America/Adak", "America/Anchorage"]),
        ("+442079460000", ["Europe/London"]),
        ("+18005550123", []),  # toll-free reaches no particular place
    ],
)
def test_zones_of_a_phone(raw: str, expected: list[str]) -> None:
    assert zones_of(phones=(phone(raw),)) == expected


def test_union_is_sorted_and_deduplicated() -> None:
    zones = candidate_zones(
        declared=None,
        phones=[phone("+13125550100"), phone("+12125550123"), phone("+8613800138000")],
        addresses=[address("US", "FL"), address("CN")],
    )
    assert zones == {
        "America/Chicago": ["address", "phone"],
        "America/New_York": ["address", "phone"],
        "Asia/Shanghai": ["address", "phone"],
    }


def test_unparseable_phone_gives_no_zone() -> None:
    assert phone_zones(PhoneNumber("+86123", "CN", 86, "mobile")) == ()
    assert phone_zones(PhoneNumber("not a number", None, 0, "mobile")) == ()


@pytest.mark.parametrize("state", sorted(US_STATE_CODES))
def test_every_state_has_valid_zones(state: str) -> None:
    zones = address_zones(address("US", state))
    assert zones
    assert set(zones) <= IANA


def test_state_table_covers_exactly_the_jurisdiction_states() -> None:
    assert set(US_STATE_ZONES) == US_STATE_CODES


@pytest.mark.parametrize(
    ("region", "code"),
    [
        ("CA", "CA"),
        ("ca", "CA"),
        ("California", "CA"),
        ("WEST VIRGINIA", "WV"),
        ("Washington", "WA"),
        ("Washington DC", "DC"),
        ("Puerto Rico", "PR"),
        ("us-tx", "TX"),
        ("Ontario", None),
        ("", None),
        (None, None),
    ],
)
def test_us_state_from_code_or_name(region: str | None, code: str | None) -> None:
    assert us_state_code(region) == code


VALID_PHONES = [
    phone(raw)
    for raw in (
        "+8613800138000",
        "+861065529988",
        "+12125550123",
        "+13175551234",
        "+19075550123",
        "+18005550123",
        "+447400123456",
        "+447911123456",
        "+33142685300",
        "+61291234567",
        "+79123456789",
        "+5511912345678",
    )
]
REGIONS = st.one_of(
    st.none(),
    st.sampled_from(sorted(US_STATE_CODES)),
    st.sampled_from(["hawaii", "Texas", "new york", "Guangdong", "Ontario"]),
    st.text(max_size=12),
)
ADDRESSES = st.builds(
    AddressHint,
    country=st.sampled_from(["CN", "GB", "US", "CA", "FR", "RU", "AU", "BR", "PR", "KZ", "AQ", "XX", "us"]),
    region=REGIONS,
    postal_code=st.none() | st.text(max_size=10),
)


@given(
    phones=st.lists(st.sampled_from(VALID_PHONES), max_size=4),
    addresses=st.lists(ADDRESSES, max_size=4),
    declared=st.none()
    | st.sampled_from(["America/New_York", "Asia/Shanghai", "Asia/Tokyo", "Europe/London"]),
)
@example(phones=[phone("+18005550123")], addresses=[address("AQ")], declared=None)
@example(phones=[], addresses=[address("US", "\x00")], declared=None)
def test_candidates_are_always_sorted_unique_iana_zones_and_declaring_only_adds(
    phones: list[PhoneNumber], addresses: list[AddressHint], declared: str | None
) -> None:
    found = candidate_zones(declared=declared, phones=phones, addresses=addresses)
    zones = list(found)
    assert zones == sorted(set(zones))
    assert set(zones) <= IANA
    assert found == candidate_zones(declared=declared, phones=phones[::-1], addresses=addresses[::-1])
    placed_phones = [number for number in phones if number.kind != "toll_free"]
    if placed_phones or any(hint.country.upper() in ("CN", "GB", "US") for hint in addresses):
        assert zones
    # The declared zone is one candidate among the derived ones, never instead of them.
    derived = candidate_zones(declared=None, phones=phones, addresses=addresses)
    assert set(derived) <= set(found)
    assert set(found) - set(derived) <= {declared}
    if declared is not None:
        assert "declared" in found[declared]
    for zone, sources in found.items():
        assert sources and sources == [s for s in ("declared", "address", "phone") if s in sources]
        assert ("address" in sources or "phone" in sources) == (zone in derived)
