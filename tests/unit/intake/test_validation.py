"""Field validators of the intake domain, each rule at its edges."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.domain.validation import (
    FieldError,
    PhoneNumber,
    jurisdiction_country,
    normalise_phone,
    validate_amount_minor,
    validate_cn_national_id,
    validate_country,
    validate_currency,
    validate_due_date_change,
    validate_due_date_for_placement,
    validate_email,
    validate_happened_at,
    validate_jurisdiction,
    validate_local_time,
    validate_timezone,
    validate_weekdays,
)

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 29)
CST = timezone(timedelta(hours=8))
FIELD = "borrower.x"


def with_check(body: str) -> str:
    """Append the GB 11643 (ISO 7064 MOD 11-2) check character, computed independently of the code."""
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(body))
    return body + "10X98765432"[total % 11]


def rejected(excinfo: pytest.ExceptionInfo[FieldError], field: str = FIELD) -> str:
    assert excinfo.value.field == field
    return excinfo.value.message


# --- FieldError -------------------------------------------------------------------------------------


def test_field_error_carries_path_and_message() -> None:
    error = FieldError("borrower.phones.0.number", "is not a valid phone number")
    assert isinstance(error, ValueError)
    assert (error.field, error.message) == ("borrower.phones.0.number", "is not a valid phone number")
    assert str(error) == "borrower.phones.0.number: is not a valid phone number"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.field, copy.message) == (error.field, error.message)


# --- phones -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+8613800138000", None, PhoneNumber("+8613800138000", "CN", 86, "mobile")),
        ("13800138000", "CN", PhoneNumber("+8613800138000", "CN", 86, "mobile")),
        ("138 0013 8000", "cn", PhoneNumber("+8613800138000", "CN", 86, "mobile")),
        ("212-555-0123", "US-NY", PhoneNumber("+12125550123", "US", 1, "fixed_line_or_mobile")),
        ("+86 10 6552 9988", "US", PhoneNumber("+861065529988", "CN", 86, "fixed_line")),
        ("+12125550123", None, PhoneNumber("+12125550123", "US", 1, "fixed_line_or_mobile")),
        ("(212) 555-0123", "US", PhoneNumber("+12125550123", "US", 1, "fixed_line_or_mobile")),
        ("+18005550123", None, PhoneNumber("+18005550123", "US", 1, "toll_free")),
        ("+447400123456", None, PhoneNumber("+447400123456", "GB", 44, "mobile")),
        ("07400 123456", "GB", PhoneNumber("+447400123456", "GB", 44, "mobile")),
        ("+442079460000", "CN", PhoneNumber("+442079460000", "GB", 44, "fixed_line")),
        ("+447911123456", None, PhoneNumber("+447911123456", "GG", 44, "mobile")),
    ],
)
def test_valid_phones_normalise_to_e164(raw: str, region: str | None, expected: PhoneNumber) -> None:
    assert normalise_phone(raw, region=region, field=FIELD) == expected


@pytest.mark.parametrize(
    ("raw", "region", "message"),
    [
        ("+86123", None, "not a valid"),
        ("+86 1380013800", None, "not a valid"),
        ("+861380013800011", None, "not a valid"),
        ("+11235550123", None, "not a valid"),  # area code 123 does not exist
        ("+19999999999", None, "not a valid"),
        ("+447700900123", None, "not a valid"),  # Ofcom's drama range: never assigned
        ("13800138000", None, "country code"),
        ("13800138000", "ZZ", "country code"),
        ("+999123", None, "country code"),
        ("hello", "CN", "not a phone number"),
        ("", "CN", "not a phone number"),
        ("+86 138 0013 8000 ext. 12", None, "extension"),
    ],
)
def test_invalid_phones_are_rejected(raw: str, region: str | None, message: str) -> None:
    with pytest.raises(FieldError) as excinfo:
        normalise_phone(raw, region=region, field=FIELD)
    assert message in rejected(excinfo)


def test_phone_must_be_a_string() -> None:
    with pytest.raises(FieldError, match="string"):
        normalise_phone(8613800138000, region=None, field=FIELD)  # type: ignore[arg-type]


# --- CN resident ID ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        (with_check("44030419000101123"), with_check("44030419000101123")),
        (with_check("44030420261129123"), with_check("44030420261129123")),
        (with_check("44030420000229123"), with_check("44030420000229123")),
    ],
)
def test_valid_cn_ids(raw: str, expected: str) -> None:
    assert validate_cn_national_id(raw, field=FIELD, today=TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("110105194912310021", "check character"),
        ("11010519491231002Y", "17 digits"),
        ("1101051949123100X2", "17 digits"),
        ("11010519491231002", "17 digits"),
        ("11010519491231002X1", "17 digits"),
        ("", "17 digits"),
        (" 11010519491231002X", "17 digits"),
        ("１1010519491231002X", "17 digits"),  # full-width digit
        (with_check("11010519490230002"), "impossible birth date"),
        (with_check("11010519491301002"), "impossible birth date"),
        (with_check("11010519490000002"), "impossible birth date"),
        (with_check("44030419000229123"), "impossible birth date"),  # 1900 was not a leap year
        (with_check("44030420261130123"), "future"),
        (with_check("44030418991231123"), "before 1900"),
    ],
)
def test_invalid_cn_ids(raw: str, message: str) -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_cn_national_id(raw, field=FIELD, today=TODAY)
    assert message in rejected(excinfo)


cn_id_bodies = st.builds(
    lambda region, born, sequence: f"{region:06d}{born:%Y%m%d}{sequence:03d}",
    st.integers(0, 999_999),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(0, 999),
)


@given(body=cn_id_bodies)
def test_any_body_with_its_check_character_validates(body: str) -> None:
    assert validate_cn_national_id(with_check(body), field=FIELD, today=TODAY) == with_check(body)


@given(body=cn_id_bodies, position=st.integers(0, 17), shift=st.integers(1, 10))
def test_changing_any_single_character_breaks_the_id(body: str, position: int, shift: int) -> None:
    valid = with_check(body)
    alphabet = "0123456789X"
    replacement = alphabet[(alphabet.index(valid[position]) + shift) % len(alphabet)]
    broken = valid[:position] + replacement + valid[position + 1 :]
    with pytest.raises(FieldError):
        validate_cn_national_id(broken, field=FIELD, today=TODAY)


# --- e-mail -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("zhang.san@example.cn", "zhang.san@example.cn"),
        ("Zhang.San@Example.CN", "Zhang.San@example.cn"),
        ("a+tag@mail.example.co.uk", "a+tag@mail.example.co.uk"),
        ("o'neil@a-b.io", "o'neil@a-b.io"),
        ("USER@BÜCHER.DE", "USER@bücher.de"),
        ("user@हिन्दी.भारत", "user@हिन्दी.भारत"),  # combining marks in the labels
        ("用户@例子.中国", "用户@例子.中国"),
        ("x@xn--fsqu00a.xn--fiqs8s", "x@xn--fsqu00a.xn--fiqs8s"),
        ("a" * 64 + "@example.com", "a" * 64 + "@example.com"),
        ("a@" + "b" * 63 + ".com", "a@" + "b" * 63 + ".com"),
    ],
)
def test_valid_emails(raw: str, expected: str) -> None:
    assert validate_email(raw, field=FIELD) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("zhang.san.example.cn", "name@example.com"),
        ("@example.cn", "name@example.com"),
        ("zhang@", "name@example.com"),
        ("a@b@example.cn", "name@example.com"),
        ("zhang san@example.cn", "spaces"),
        (" zhang@example.cn", "spaces"),
        ("zhang@example.cn\n", "spaces"),
        ("zhang@localhost", "dot in the domain"),
        ("zhang@example.cn.", "domain label"),
        ("zhang@.example.cn", "domain label"),
        ("zhang@example..cn", "domain label"),
        ("zhang@-example.cn", "hyphen"),
        ("zhang@example-.cn", "hyphen"),
        ("zhang@exa_mple.cn", "not allowed in a domain"),
        ("zhang@[127.0.0.1]", "not allowed in a domain"),
        ("zhang@example①.cn", "not allowed in a domain"),
        ("zhang@example.123", "numeric"),
        (".zhang@example.cn", "dot"),
        ("zhang.@example.cn", "dot"),
        ("zh..ang@example.cn", "dot"),
        ("zh(ang)@example.cn", "before @"),
        ('"zhang"@example.cn', "before @"),
        ("a" * 65 + "@example.com", "64"),
        ("a@" + "b" * 64 + ".com", "domain label"),
        ("a@" + "例" * 60 + ".com", "over-long"),
        ("a@" + ("b" * 62 + ".") * 4 + "com", "254"),
    ],
)
def test_invalid_emails(raw: str, message: str) -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_email(raw, field=FIELD)
    assert message in rejected(excinfo)


# --- money ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["CNY", "USD", "GBP", "EUR", "JPY", "HKD", "CLF", "XCG", "ZWG"])
def test_active_currencies_pass(code: str) -> None:
    assert validate_currency(code, field=FIELD) == code


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("cny", "upper case: CNY"),
        ("Usd", "upper case: USD"),
        ("XYZ", "not an active ISO 4217"),
        ("HRK", "not an active ISO 4217"),  # withdrawn when Croatia adopted the euro
        ("RMB", "not an active ISO 4217"),
        ("US", "not an active ISO 4217"),
        ("", "not an active ISO 4217"),
        (" CNY", "not an active ISO 4217"),
        ("XXX", "not a currency a debt"),
        ("XAU", "not a currency a debt"),
        ("XTS", "not a currency a debt"),
    ],
)
def test_bad_currencies_are_rejected(raw: str, message: str) -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_currency(raw, field=FIELD)
    assert message in rejected(excinfo)


@pytest.mark.parametrize("value", [0, 1, 1234500, 10**15])
def test_amounts_in_range_pass(value: int) -> None:
    assert validate_amount_minor(value, field=FIELD) == value


@pytest.mark.parametrize(
    ("value", "allow_zero", "message"),
    [
        (-1, True, "negative"),
        (10**15 + 1, True, "at most"),
        (0, False, "greater than zero"),
        (1.5, True, "integer"),
        (100.0, True, "integer"),
        (True, True, "integer"),
        (False, True, "integer"),
        ("100", True, "integer"),
        (None, True, "integer"),
        (Decimal(100), True, "integer"),
    ],
)
def test_bad_amounts_are_rejected(value: object, allow_zero: bool, message: str) -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_amount_minor(value, field=FIELD, allow_zero=allow_zero)
    assert message in rejected(excinfo)


# --- places -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country"),
    [("CN", "CN"), ("GB", "GB"), ("US-CA", "US"), ("US-MA", "US"), ("US-DC", "US"), ("US-PR", "US")],
)
def test_valid_jurisdictions(raw: str, country: str) -> None:
    assert validate_jurisdiction(raw, field=FIELD) == raw
    assert jurisdiction_country(raw) == country


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("US", "needs the state"),
        ("US-XX", "CN, GB or US-<state>"),
        ("US-", "CN, GB or US-<state>"),
        ("US-GU", "CN, GB or US-<state>"),
        ("US_CA", "CN, GB or US-<state>"),
        ("GB-ENG", "CN, GB or US-<state>"),
        ("FR", "CN, GB or US-<state>"),
        ("", "CN, GB or US-<state>"),
        ("cn", "upper case: CN"),
        ("us-ca", "upper case: US-CA"),
        ("US-ca", "upper case: US-CA"),
        ("UK", "use GB"),
    ],
)
def test_bad_jurisdictions_are_rejected(raw: str, message: str) -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_jurisdiction(raw, field=FIELD)
    assert message in rejected(excinfo)


@pytest.mark.parametrize("code", ["CN", "US", "GB", "HK", "PR", "AX", "ZW"])
def test_valid_countries(code: str) -> None:
    assert validate_country(code, field=FIELD) == code


@pytest.mark.parametrize(
    ("raw", "message"),
    [("cn", "upper case: CN"), ("UK", "use GB"), ("XX", "alpha-2"), ("CHN", "alpha-2"), ("", "alpha-2")],
)
def test_bad_countries_are_rejected(raw: str, message: str) -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_country(raw, field=FIELD)
    assert message in rejected(excinfo)


# --- times ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Asia/Shanghai", "Asia/Shanghai"),
        ("America/New_York", "America/New_York"),
        ("America/Indiana/Indianapolis", "America/Indiana/Indianapolis"),
        ("Europe/London", "Europe/London"),
        ("UTC", "UTC"),
        ("asia/shanghai", "Asia/Shanghai"),
        ("US/Eastern", "US/Eastern"),
    ],
)
def test_valid_timezones(raw: str, expected: str) -> None:
    assert validate_timezone(raw, field=FIELD) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "UTC+8",
        "+08:00",
        "",
        "Local",
        "localtime",
        "Factory",
        "Asia/Beijing",
        "America/NewYork",
        "../zone.tab",
    ],
)
def test_bad_timezones_are_rejected(raw: str) -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_timezone(raw, field=FIELD)
    assert "IANA" in rejected(excinfo)


@pytest.mark.parametrize("due", [TODAY, TODAY - timedelta(days=1), date(2000, 1, 1)])
def test_placement_due_date_today_or_before(due: date) -> None:
    assert validate_due_date_for_placement(due, today=TODAY, field=FIELD) == due


@pytest.mark.parametrize(
    ("due", "message"),
    [(TODAY + timedelta(days=1), "future"), (datetime(2026, 1, 1), "must be a date"), ("2026-01-01", "date")],
)
def test_placement_due_date_rejected(due: object, message: str) -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_due_date_for_placement(due, today=TODAY, field=FIELD)  # type: ignore[arg-type]
    assert message in rejected(excinfo)


def test_placement_due_date_at_most_fifty_years_ago() -> None:
    assert validate_due_date_for_placement(date(1976, 11, 29), today=TODAY, field=FIELD) == date(1976, 11, 29)
    with pytest.raises(FieldError) as excinfo:
        validate_due_date_for_placement(date(1976, 11, 28), today=TODAY, field=FIELD)
    assert rejected(excinfo) == "must not be more than 50 years ago (1976-11-29 or later)"


@pytest.mark.parametrize("due", [date(1976, 11, 29), TODAY + timedelta(days=400), date(2036, 11, 29)])
def test_a_changed_due_date_may_lie_fifty_years_back_to_ten_ahead(due: date) -> None:
    assert validate_due_date_change(due, today=TODAY, field=FIELD) == due


@pytest.mark.parametrize("due", [date(1, 1, 1), date(1976, 11, 28), date(2036, 11, 30), date(9999, 12, 31)])
def test_a_changed_due_date_out_of_range_names_the_range(due: date) -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_due_date_change(due, today=TODAY, field=FIELD)
    assert (
        rejected(excinfo)
        == "must be between 1976-11-29 and 2036-11-29 (at most 50 years ago, 10 years ahead)"
    )


def test_a_due_date_fifty_years_before_a_leap_day_is_the_28th() -> None:
    assert validate_due_date_change(date(1974, 2, 28), today=date(2024, 2, 29), field=FIELD) == date(
        1974, 2, 28
    )
    with pytest.raises(FieldError):
        validate_due_date_change(date(1974, 2, 27), today=date(2024, 2, 29), field=FIELD)


NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "at",
    [
        NOW,
        NOW + timedelta(minutes=5),
        NOW - timedelta(days=365 * 49),
        datetime(2026, 11, 29, 16, 4, tzinfo=CST),
    ],
)
def test_a_time_something_happened_may_run_five_minutes_ahead(at: datetime) -> None:
    assert validate_happened_at(at, now=NOW, field=FIELD) == at


def test_a_time_something_happened_in_the_future_is_refused_with_our_clock() -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_happened_at(NOW + timedelta(minutes=5, seconds=1), now=NOW, field=FIELD)
    assert (
        rejected(excinfo)
        == "must not be in the future (5 minutes of clock skew allowed; now 2026-11-29T08:00Z)"
    )


def test_a_time_something_happened_over_fifty_years_ago_is_refused() -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_happened_at(datetime(1976, 11, 28, 23, 0, tzinfo=UTC), now=NOW, field=FIELD)
    assert rejected(excinfo) == "must not be more than 50 years ago (1976-11-29 or later)"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("00:00", time(0, 0)),
        ("08:30", time(8, 30)),
        ("21:00", time(21, 0)),
        ("23:59", time(23, 59)),
        ("24:00", time.max),
    ],
)
def test_valid_local_times(raw: str, expected: time) -> None:
    assert validate_local_time(raw, field=FIELD) == expected


@pytest.mark.parametrize(
    "raw", ["24:01", "25:00", "23:60", "9:00", "0900", "09:00:00", "12:5", " 09:00", "", "noon", "٠٩:٠٠"]
)
def test_bad_local_times_are_rejected(raw: str) -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_local_time(raw, field=FIELD)
    assert "HH:MM" in rejected(excinfo)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["mon"], ["mon"]),
        (["sat", "sun"], ["sat", "sun"]),
        (["sun", "mon", "mon"], ["mon", "sun"]),
        (
            ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        ),
    ],
)
def test_valid_weekdays_in_week_order(values: list[str], expected: list[str]) -> None:
    assert validate_weekdays(values, field=FIELD) == expected


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ([], FIELD, "non-empty"),
        ("mon", FIELD, "non-empty"),
        (["Mon"], f"{FIELD}.0", "lower case: mon"),
        (["mon", "funday"], f"{FIELD}.1", "mon..sun"),
        (["monday"], f"{FIELD}.0", "mon..sun"),
        (["mon", 1], f"{FIELD}.1", "mon..sun"),
    ],
)
def test_bad_weekdays_are_rejected(values: object, field: str, message: str) -> None:
    with pytest.raises(FieldError) as excinfo:
        validate_weekdays(values, field=FIELD)  # type: ignore[arg-type]
    assert message in rejected(excinfo, field)
