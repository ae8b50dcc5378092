"""Field validators for lender events: each returns the normalised value or raises `FieldError`.

Callers pass `field`, the dotted path of the value in the event (`borrower.phones.0.number`), so
the error can be reported against the exact input that caused it.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from common.fields import CLOCK_SKEW


class FieldError(ValueError):
    """One rejected input field: `field` is its dotted path, `message` says what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[FieldError], tuple[str, str]]:
        return (type(self), (self.field, self.message))


# ISO 4217 list one (active alphabetic codes) as of 2026: ANG, BGN, HRK, SLL and ZWL withdrawn;
# XCG and ZWG added.
def _words(table: str) -> frozenset[str]:
    return frozenset(table.split())


ISO_4217_CODES: frozenset[str] = _words(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH
    UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD
    XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG
    """
)
# Codes in list one that are not money a borrower can owe: metals, bond units, test, "no currency".
_NOT_MONEY = _words("XAG XAU XPD XPT XBA XBB XBC XBD XDR XSU XUA XTS XXX")

ISO_3166_ALPHA2: frozenset[str] = _words(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """
)

# The 50 states, the District of Columbia and Puerto Rico.
US_STATE_CODES: frozenset[str] = _words(
    """
    AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY
    NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR
    """
)

MAX_AMOUNT_MINOR = 10**15
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _reject_non_str(raw: object, field: str) -> str:
    if not isinstance(raw, str):
        raise FieldError(field, "must be a string")
    return raw


# --- phones -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A valid phone number: E.164 form, the region it belongs to (None if non-geographic), its kind."""

    e164: str
    region: str | None
    country_code: int
    kind: str


_PHONE_KINDS: dict[int, str] = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.TOLL_FREE: "toll_free",
}


def normalise_phone(raw: str, *, region: str | None, field: str) -> PhoneNumber:
    """Parse `raw` into E.164, reading a number without + in `region` (a country code such as `CN`;
    a jurisdiction such as `US-CA` counts as its country).

    The number must be valid by the `phonenumbers` metadata, not merely the right length, and carry
    no extension. `region` of the result is the number's own (`GG` for some +44 mobiles).
    """
    text = _reject_non_str(raw, field)
    try:
        parsed = phonenumbers.parse(text, jurisdiction_country(region).upper() if region else None)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise FieldError(field, "needs a leading + and a valid country code") from exc
        raise FieldError(field, "is not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed) or parsed.country_code is None:
        raise FieldError(field, "is not a valid phone number")
    if parsed.extension:
        # The E.164 form cannot carry it, and dialling the bare number may reach someone else.
        raise FieldError(field, "must not carry an extension")
    return PhoneNumber(
        e164=phonenumbers.format_number(parsed, PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(parsed),
        country_code=parsed.country_code,
        kind=_PHONE_KINDS.get(phonenumbers.number_type(parsed), "other"),
    )


# --- CN resident identity card --------------------------------------------------------------------

_CN_ID = re.compile(r"[0-9]{17}[0-9X]")
_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"
_EARLIEST_BIRTH = date(1900, 1, 1)


def validate_cn_national_id(raw: str, *, field: str, today: date) -> str:
    """A PRC resident ID (GB 11643): 18 characters, MOD 11-2 check character, a real birth date
    between 1900-01-01 and `today`. Returns it with an upper-case X."""
    value = _reject_non_str(raw, field).upper()
    if not _CN_ID.fullmatch(value):
        raise FieldError(field, "must be 17 digits followed by a digit or X")
    total = sum(int(digit) * weight for digit, weight in zip(value, _CN_ID_WEIGHTS, strict=False))
    if _CN_ID_CHECK[total % 11] != value[17]:
        raise FieldError(field, "has a wrong check character")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise FieldError(field, "embeds an impossible birth date") from exc
    if born > today:
        raise FieldError(field, "embeds a birth date in the future")
    if born < _EARLIEST_BIRTH:
        raise FieldError(field, "embeds a birth date before 1900")
    return value


# --- e-mail ---------------------------------------------------------------------------------------

_LOCAL_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-")
_LABEL_ASCII = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def _is_unicode_word_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return ord(ch) > 127 and (category[0] in "LM" or category == "Nd")


def _check_domain_label(label: str, field: str) -> None:
    if not 1 <= len(label) <= 63:
        raise FieldError(field, "has an empty or over-long domain label")
    if label.startswith("-") or label.endswith("-"):
        raise FieldError(field, "has a domain label starting or ending with a hyphen")
    if not all(ch in _LABEL_ASCII or _is_unicode_word_char(ch) for ch in label):
        raise FieldError(field, "has a character not allowed in a domain")
    if not label.isascii() and len(label.encode("punycode")) + 4 > 63:
        raise FieldError(field, "has an over-long domain label")


def validate_email(raw: str, *, field: str) -> str:
    """A practical `local@domain` check (no quoted local parts, no IP literals); unicode letters are
    accepted in both parts. Returns the address with its domain lower-cased."""
    value = _reject_non_str(raw, field)
    if any(ch.isspace() for ch in value):
        raise FieldError(field, "must not contain spaces")
    if len(value) > 254:
        raise FieldError(field, "is longer than 254 characters")
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or "@" in local:
        raise FieldError(field, "must look like name@example.com")
    if len(local) > 64:
        raise FieldError(field, "has a part before @ longer than 64 characters")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise FieldError(field, "has a misplaced dot before @")
    if not all(ch in _LOCAL_ASCII or ch == "." or _is_unicode_word_char(ch) for ch in local):
        raise FieldError(field, "has a character not allowed before @")
    domain = domain.lower()
    labels = domain.split(".")
    if len(labels) < 2:
        raise FieldError(field, "needs a dot in the domain")
    for label in labels:
        _check_domain_label(label, field)
    if labels[-1].isdigit():
        raise FieldError(field, "has a numeric top-level domain")
    return f"{local}@{domain}"


# --- money ----------------------------------------------------------------------------------------


def validate_currency(raw: str, *, field: str) -> str:
    """An active ISO 4217 alphabetic code in upper case, naming money (not metals or test codes)."""
    value = _reject_non_str(raw, field)
    if value not in ISO_4217_CODES and value.upper() in ISO_4217_CODES:
        raise FieldError(field, f"must be upper case: {value.upper()}")
    if value not in ISO_4217_CODES:
        raise FieldError(field, "is not an active ISO 4217 currency code")
    if value in _NOT_MONEY:
        raise FieldError(field, "is not a currency a debt can be owed in")
    return value


def validate_amount_minor(value: object, *, field: str, allow_zero: bool = True) -> int:
    """An integer number of minor units (cents, fen, pence), 0 (if allowed) up to 10**15."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field, "must be an integer number of minor units")
    if value < 0:
        raise FieldError(field, "must not be negative")
    if value == 0 and not allow_zero:
        raise FieldError(field, "must be greater than zero")
    if value > MAX_AMOUNT_MINOR:
        raise FieldError(field, f"must be at most {MAX_AMOUNT_MINOR}")
    return value


# --- places and times -----------------------------------------------------------------------------


def validate_country(raw: str, *, field: str) -> str:
    """An ISO 3166-1 alpha-2 code in upper case."""
    value = _reject_non_str(raw, field)
    if value == "UK":
        raise FieldError(field, "is not an ISO 3166 code: use GB")
    if value not in ISO_3166_ALPHA2 and value.upper() in ISO_3166_ALPHA2:
        raise FieldError(field, f"must be upper case: {value.upper()}")
    if value not in ISO_3166_ALPHA2:
        raise FieldError(field, "is not an ISO 3166-1 alpha-2 country code")
    return value


def _is_jurisdiction(value: str) -> bool:
    return value in ("CN", "GB") or (value.startswith("US-") and value[3:] in US_STATE_CODES)


def validate_jurisdiction(raw: str, *, field: str) -> str:
    """`CN`, `GB` or `US-<state>` (two-letter code of a state, DC or PR), in upper case."""
    value = _reject_non_str(raw, field)
    if _is_jurisdiction(value):
        return value
    upper = value.upper()
    if _is_jurisdiction(upper):
        raise FieldError(field, f"must be upper case: {upper}")
    if upper == "UK":
        raise FieldError(field, "is not a jurisdiction: use GB")
    if upper == "US":
        raise FieldError(field, "needs the state: US-<state>, e.g. US-CA")
    raise FieldError(field, "must be CN, GB or US-<state>")


def jurisdiction_country(jurisdiction: str) -> str:
    """The country of a validated jurisdiction: `US-CA` -> `US`."""
    return jurisdiction.partition("-")[0]


# Present in some tz databases but not a place: the host's zone and tzdata's "Factory" placeholder.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones() if name not in _NOT_PLACES}


def validate_timezone(raw: str, *, field: str) -> str:
    """An IANA time-zone name known to the tz database; case is corrected (`asia/shanghai` ->
    `Asia/Shanghai`), links are kept as given (`US/Eastern` stays)."""
    value = _reject_non_str(raw, field)
    name = _zones_by_lower_name().get(value.lower())
    if name is None:
        raise FieldError(field, "is not an IANA time zone such as Asia/Shanghai")
    return name


# How far from today a due date may lie: no consumer debt we collect is older than 50 years, and
# a rescheduled one is not pushed out by more than 10.
DUE_DATE_YEARS_BACK = 50
DUE_DATE_YEARS_AHEAD = 10


def years_from(day: date, years: int) -> date:
    """`day` moved by whole years (29 February becomes the 28th in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validate_due_date_for_placement(due: date, *, today: date, field: str) -> date:
    """A placed account is already overdue: its due date cannot be after `today`, nor more than
    50 years before it."""
    if isinstance(due, datetime) or not isinstance(due, date):
        raise FieldError(field, "must be a date")
    if due > today:
        raise FieldError(field, "must not be in the future for a placement")
    earliest = years_from(today, -DUE_DATE_YEARS_BACK)
    if due < earliest:
        raise FieldError(field, _too_old(earliest))
    return due


def validate_due_date_change(due: date, *, today: date, field: str) -> date:
    """A changed due date (a rescheduled debt) lies between 50 years ago and 10 years ahead."""
    earliest, latest = years_from(today, -DUE_DATE_YEARS_BACK), years_from(today, DUE_DATE_YEARS_AHEAD)
    if not earliest <= due <= latest:
        raise FieldError(
            field,
            f"must be between {earliest} and {latest} "
            f"(at most {DUE_DATE_YEARS_BACK} years ago, {DUE_DATE_YEARS_AHEAD} years ahead)",
        )
    return due


def validate_happened_at(at: datetime, *, now: datetime, field: str) -> datetime:
    """When something happened (the event, a payment, a dispute received): not ahead of `now` by
    more than 5 minutes of clock skew, nor more than 50 years ago."""
    if at > now + CLOCK_SKEW:
        clock = now.astimezone(UTC)
        raise FieldError(
            field,
            "must not be in the future "
            f"({CLOCK_SKEW.seconds // 60} minutes of clock skew allowed; now {clock:%Y-%m-%dT%H:%MZ})",
        )
    earliest = years_from(now.date(), -DUE_DATE_YEARS_BACK)
    if at.date() < earliest:
        raise FieldError(field, _too_old(earliest))
    return at


def _too_old(earliest: date) -> str:
    return f"must not be more than {DUE_DATE_YEARS_BACK} years ago ({earliest} or later)"


_HH_MM = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")


def validate_local_time(raw: str, *, field: str) -> time:
    """A wall-clock time `HH:MM` (24 h). `24:00`, the end of the day, is returned as `time.max`."""
    value = _reject_non_str(raw, field)
    if not _HH_MM.fullmatch(value):
        raise FieldError(field, "must be HH:MM between 00:00 and 24:00")
    if value == "24:00":
        return time.max
    return time(int(value[:2]), int(value[3:]))


def validate_weekdays(values: list[str], *, field: str) -> list[str]:
    """At least one of mon..sun; returned de-duplicated in week order."""
    if not isinstance(values, list) or not values:
        raise FieldError(field, "must be a non-empty list of days (mon..sun)")
    for index, day in enumerate(values):
        if not isinstance(day, str) or day not in WEEKDAYS:
            hint = f": {day.lower()}" if isinstance(day, str) and day.lower() in WEEKDAYS else ""
            raise FieldError(f"{field}.{index}", f"must be one of mon..sun in lower case{hint}")
    return [day for day in WEEKDAYS if day in values]
