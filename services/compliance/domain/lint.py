"""Template lint: forbidden collection language and missing required disclosures.

Content rules run on every template whatever its declared language, because real templates mix
languages (brand names, "APP", a Chinese line in an English e-mail). English patterns match whole
words, case-insensitively, and a space in them matches any run of whitespace; Chinese patterns match
as substrings. Jinja2 tags are blanked out before matching, so spans stay offsets into the raw body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

THREAT: Final = "threat_violence"
AUTHORITY: Final = "false_authority"
SHAMING: Final = "disclosure_shaming"
ABUSE: Final = "abuse_insult"
FINANCING: Final = "coercive_financing_fees"
PRETEXT: Final = "deceptive_pretext"
MISSING: Final = "missing_disclosure"

ALL_CATEGORIES: Final[tuple[str, ...]] = (THREAT, AUTHORITY, SHAMING, ABUSE, FINANCING, PRETEXT, MISSING)

CITATIONS: Final[dict[str, str]] = {
    THREAT: "FDCPA 1692d(1), 1692e(4)-(5); GB/T 45251-2025 and NIFA 2024 (no threats or violence); CONC 7.3",
    AUTHORITY: "FDCPA 1692e(1)-(3), 1692e(9); NIFA 2024 (no impersonating courts or officials); CONC 7.11",
    SHAMING: "FDCPA 1692c(b), 1692d(3); PIPL and NIFA 2024 (no disclosure, no public notices); CONC 7.9.10R",
    ABUSE: "FDCPA 1692d(2); GB/T 45251-2025 and NIFA 2024 (no insults); CONC 7.3",
    FINANCING: "FDCPA 1692f(1); CBA 2026 and NIFA 2024 (no new borrowing, no extra fees); CONC 7.3.10R",
    PRETEXT: "FDCPA 1692e(10), 1692e(14); NIFA 2018 (no impersonation); CONC 7.9.2R-7.9.3G",
    MISSING: "Regulation F 12 CFR 1006.18(e), 1006.6(e); MIIT SMS rules and NIFA 2024 (sender, opt-out)",
}

# (rule id, category, language, pattern, message)
# fmt: off
WORD_RULES: Final[tuple[tuple[str, str, str, str, str], ...]] = (
    ("threat_violence.en.arrest", THREAT, "en",
     r"arrest(?:ed)?|jail(?:ed)?|prison|imprison(?:ed|ment)?|locked up|handcuff(?:s|ed)?",
     "Threatens arrest or imprisonment."),
    ("threat_violence.en.criminal", THREAT, "en",
     r"criminal (?:charges?|case|record|complaint|proceedings)|prosecut(?:e|ed|ion)",
     "Threatens criminal action over a civil debt."),
    ("threat_violence.en.harm", THREAT, "en",
     r"hurt|harm|kill|beat you(?: up)?|break your (?:legs?|arms?|neck)|watch your back"
     r"|you(?:'ll| will) regret|something (?:bad|terrible) (?:will|could) happen|face the consequences",
     "Threatens violence or harm."),
    ("threat_violence.en.legal_action", THREAT, "en",
     r"(?:take|start|begin|commence) legal (?:action|proceedings)|sue you|take you to court",
     "Threatens legal action; only state action that is lawful and intended."),
    ("threat_violence.en.seize", THREAT, "en",
     r"(?:seize|repossess|take) your (?:house|home|car|property|belongings|possessions|wages)"
     r"|we know where you live|(?:come|show up|turn up) (?:to|at) your (?:house|home|door|work|workplace)",
     "Threatens seizure or an unannounced confrontation."),
    ("threat_violence.zh.jail", THREAT, "zh", r"坐牢|判刑|拘留|逮捕|抓捕|抓你|进监狱|蹲监狱|刑事责任",
     "威胁拘留、坐牢或追究刑事责任。"),
    ("threat_violence.zh.harm", THREAT, "zh",
     r"弄死|打死|砍死|杀了你|打断你的腿|废了你|收拾你|给你好看|让你好看|泼油漆|泼红漆",
     "威胁暴力或人身伤害。"),
    ("threat_violence.zh.intimidate", THREAT, "zh", r"后果自负|后果很严重|走着瞧|等着瞧|上门闹|找上门|堵门",
     "恐吓性表述。"),
    ("false_authority.en.court", AUTHORITY, "en",
     r"courts?|courthouse|court order|summons|subpoena|warrant|bailiffs?|judge|official notice",
     "Implies court involvement or official documents."),
    ("false_authority.en.police", AUTHORITY, "en",
     r"police|sheriff|FBI|law enforcement|the authorities",
     "Invokes the police or law enforcement."),
    ("false_authority.en.government", AUTHORITY, "en",
     r"government (?:agency|department|official|notice)|IRS|HMRC|department of justice|attorney general",
     "Implies a government agency is involved."),
    ("false_authority.en.lawyer", AUTHORITY, "en",
     r"our (?:lawyers?|attorneys?|solicitors?|legal (?:team|department))"
     r"|(?:lawyer|attorney|solicitor)'s letter"
     r"|(?:referred|passed|handed) (?:to|over to) (?:our |a |the )?(?:lawyers?|attorneys?|solicitors?)",
     "Implies a lawyer is involved; only say so when it is true."),
    ("false_authority.zh.court", AUTHORITY, "zh", r"法院|传票|法官|立案|强制执行|执行局|司法机关",
     "暗示法院或司法程序介入。"),
    ("false_authority.zh.police", AUTHORITY, "zh", r"公安|警察|派出所|检察院|公检法|通缉",
     "冒用公安、检察等机关名义。"),
    ("false_authority.zh.official", AUTHORITY, "zh",
     r"政府部门|政府机关|国家机关|官方通知|律师函|律师团队|法务部",
     "冒用政府、律师等名义；确属律师出具时除外。"),
    ("disclosure_shaming.en.third_party", SHAMING, "en",
     r"(?:tell|inform|notify|contact|call|email|text|visit) your (?:employer|boss|manager|workplace"
     r"|colleagues?|co-?workers?|family|relatives|parents|spouse|wife|husband|neighbou?rs|friends|contacts"
     r"|references)",
     "Threatens to tell third parties about the debt."),
    ("disclosure_shaming.en.public", SHAMING, "en",
     r"social media|facebook|publicly|in public|name and shame|shame you|expose you|publish your"
     r"|defaulters? list|blacklist(?:ed)?|everyone will know|your (?:contacts|phone book|address book)",
     "Threatens public exposure of the debt."),
    ("disclosure_shaming.zh.third_party", SHAMING, "zh",
     r"(?:通知|告诉|告知|联系|打给|找)(?:你|您)的?(?:家人|家属|亲属|亲友|父母|配偶|单位|公司|领导|同事|朋友|联系人)",
     "威胁向第三方披露欠款。"),
    ("disclosure_shaming.zh.public", SHAMING, "zh",
     r"曝光|公开(?:你|您)|公之于众|公示|挂网|大字报|张贴|朋友圈|通讯录|黑名单",
     "威胁公开曝光或张贴欠款信息。"),
    ("abuse_insult.en.insult", ABUSE, "en",
     r"deadbeat|loser|scum(?:bag)?|idiot|stupid|moron|liar|cheat(?:er)?|thief|crook|fraudster"
     r"|worthless|pathetic|shameless|disgrace(?:ful)?|bum",
     "Insults the recipient."),
    ("abuse_insult.en.profanity", ABUSE, "en", r"fuck\w*|shit\w*|bitch\w*|bastards?|damn|ass(?:hole)?|crap",
     "Profane language."),
    ("abuse_insult.zh.insult", ABUSE, "zh",
     r"骗子|老赖|无赖|赖皮|赖账|不要脸|废物|垃圾(?!邮件|短信|箱)|人渣|混蛋|王八蛋|畜生|去死|滚蛋|他妈|傻逼|贱人",
     "侮辱、谩骂用语。"),
    ("coercive_financing_fees.en.borrowing", FINANCING, "en",
     r"borrow (?:money )?from (?:another|other|a different) (?:app|lender|bank|platform)s?"
     r"|take (?:out )?(?:a|another|a new|new) loan|(?:payday|new) loan to pay"
     r"|borrow from (?:friends|family|relatives)|use (?:another|a) credit card to pay",
     "Pushes the recipient to borrow elsewhere to repay."),
    ("coercive_financing_fees.en.fees", FINANCING, "en",
     r"collection (?:fee|charge)s?|(?:penalty|admin|administration|processing|handling|extra|additional)"
     r" (?:fee|charge)s? (?:of|will be (?:added|charged|applied))|(?:fee|charge)s? will be added",
     "Announces a fee; only amounts the agreement or law permits may be collected."),
    ("coercive_financing_fees.zh.borrowing", FINANCING, "zh",
     r"以贷养贷|借新还旧|拆东墙补西墙|(?:其他|别的|另一个?)(?:平台|网贷|APP|贷款)借|借钱来?还"
     r"|(?:去|找)(?:人|朋友|亲戚|别人)借|套现",
     "诱导借新还旧或以贷养贷。"),
    ("coercive_financing_fees.zh.fees", FINANCING, "zh",
     r"额外(?:手续费|费用|收取)|催收费|上门费|(?:违约金|滞纳金|罚金|罚款)(?:将|会)?(?:翻倍|加倍|上涨)",
     "收取额外费用。"),
    ("deceptive_pretext.en.lure", PRETEXT, "en",
     r"(?:package|parcel) (?:delivery|notice|is waiting|could not be delivered)"
     r"|missed (?:a |your )?(?:delivery|parcel|package)|you(?:'ve| have) won|prize|winner|lottery"
     r"|(?:claim|collect) your (?:reward|gift)",
     "Uses a misleading pretext to get a response."),
    ("deceptive_pretext.en.disguise", PRETEXT, "en",
     r"not (?:a|an) (?:debt collector|attempt to collect)|not about (?:a|your) debt|last chance|act now or",
     "Disguises the purpose of the message or invents urgency."),
    ("deceptive_pretext.zh.lure", PRETEXT, "zh",
     r"快递|包裹|中奖|领奖|抽奖|奖品|(?:你|您)的?(?:家人|孩子|亲人)(?:出事|住院)|最后机会",
     "以虚假事由诱导回复。"),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint finding; ``span`` is a pair of character offsets into the body, ``(0, 0)`` when absent."""

    rule: str
    category: str
    span: tuple[int, int]
    message: str


@dataclass(frozen=True, slots=True)
class LintResult:
    ok: bool
    findings: list[Finding]


@dataclass(frozen=True, slots=True)
class _Disclosure:
    rule: str
    jurisdiction: str
    channels: frozenset[str]
    en: re.Pattern[str] | None
    zh: re.Pattern[str] | None
    message: str


class UnknownJurisdictionError(ValueError):
    """The jurisdiction is none of CN, US, US-<state>, GB."""


_TEMPLATE_TAG: Final = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_EMAIL_SMS: Final = frozenset({"email", "sms"})
_SMS: Final = frozenset({"sms"})
_NOT: Final = r"(?<!\bnot\s)(?<!\bnot\sa\s)(?<!\bnot\san\s)"

_OPT_OUT_EN: Final = re.compile(r"\b(?:reply|text)\s+[\"'“]?stop\b|\bunsubscribe\b|\bopt[\s-]?out\b", re.I)
_DISCLOSURES: Final[tuple[_Disclosure, ...]] = (
    _Disclosure(
        "US.disclosure.debt_collector",
        "US",
        _EMAIL_SMS,
        re.compile(
            _NOT + r"\b(?:debt\s+collectors?|attempt(?:ing)?\s+to\s+collect\s+(?:a|the|this)\s+debt)\b", re.I
        ),
        re.compile(r"债务催收|催收机构"),
        "US e-mail and SMS must say this is a communication from a debt collector.",
    ),
    _Disclosure(
        "US.disclosure.opt_out",
        "US",
        _EMAIL_SMS,
        _OPT_OUT_EN,
        re.compile(r"退订"),
        "US e-mail and SMS must give a simple way to opt out (e.g. 'Reply STOP').",
    ),
    _Disclosure(
        "CN.disclosure.sender",
        "CN",
        _SMS,
        None,
        re.compile(r"【[^】]{2,30}】"),
        "CN SMS must identify the sender with a 【signature】.",
    ),
    _Disclosure(
        "CN.disclosure.opt_out",
        "CN",
        _SMS,
        _OPT_OUT_EN,
        re.compile(
            r"回复?\s*[\"“]?(?:T|TD|N|R|0)[\"”]?\s*(?:退订|拒收)|回复\s*[\"“]?退订"
            r"|(?:退订|拒收)\s*请?\s*回复?\s*[\"“]?(?:TD|T|N|R|0)(?![A-Za-z])",
            re.I,
        ),
        "CN SMS must carry opt-out instructions such as '回T退订'.",
    ),
)


@dataclass(frozen=True, slots=True)
class _WordRule:
    rule: str
    category: str
    language: str
    pattern: re.Pattern[str]
    message: str


def _compile(rule: str, category: str, language: str, pattern: str, message: str) -> _WordRule:
    if category not in ALL_CATEGORIES:
        raise ValueError(f"{rule}: unknown category {category!r}")
    if language == "en":
        pattern = r"\b(?:" + pattern.replace(" ", r"\s+") + r")\b"
    return _WordRule(rule, category, language, re.compile(pattern, re.IGNORECASE), message)


_COMPILED: Final[tuple[_WordRule, ...]] = tuple(_compile(*row) for row in WORD_RULES)


def lint_template(
    *, jurisdiction: str, channel: str, language: str, body: str, subject: str | None = None
) -> LintResult:
    """Lint a template for forbidden content and the jurisdiction's required disclosures.

    Findings in ``subject`` carry span ``(0, 0)`` and a message starting with "Subject:". Raises
    ``UnknownJurisdictionError`` for a jurisdiction outside CN, US(-<state>) and GB.
    """
    country = _country(jurisdiction)
    text = mask_template_tags(body)
    findings = list(_content_findings(text))
    if subject is not None:
        findings += [
            Finding(f.rule, f.category, (0, 0), f"Subject: {f.message}")
            for f in _content_findings(mask_template_tags(subject))
        ]
    findings += _missing_disclosures(country, channel.lower().replace("e-mail", "email"), language, text)
    findings.sort(key=lambda f: (f.span, f.rule))
    return LintResult(ok=not findings, findings=findings)


def mask_template_tags(text: str) -> str:
    """Blank out Jinja2 ``{{ }}``, ``{% %}`` and ``{# #}`` tags, keeping every other offset unchanged."""
    return _TEMPLATE_TAG.sub(lambda m: " " * len(m.group()), text)


def lint_rules() -> list[dict[str, str]]:
    """Every lint rule as a plain record, for documentation and ``GET /v1/policies``."""
    rules = [
        {
            "rule": r.rule,
            "category": r.category,
            "language": r.language,
            "applies_to": "all",
            "pattern": r.pattern.pattern,
            "message": r.message,
            "citation": CITATIONS[r.category],
        }
        for r in _COMPILED
    ]
    for d in _DISCLOSURES:
        pattern = " | ".join(p.pattern for p in (d.en, d.zh) if p is not None)
        rules.append(
            {
                "rule": d.rule,
                "category": MISSING,
                "language": "en, zh" if d.en else "zh",
                "applies_to": f"{d.jurisdiction} {', '.join(sorted(d.channels))}",
                "pattern": pattern,
                "message": d.message,
                "citation": CITATIONS[MISSING],
            }
        )
    return rules


def _country(jurisdiction: str) -> str:
    country = jurisdiction.strip().upper().split("-", 1)[0]
    if country not in {"CN", "US", "GB"}:
        raise UnknownJurisdictionError(f"unknown jurisdiction {jurisdiction!r}")
    return country


def _content_findings(text: str) -> list[Finding]:
    return [
        Finding(rule.rule, rule.category, match.span(), rule.message)
        for rule in _COMPILED
        for match in rule.pattern.finditer(text)
    ]


def _missing_disclosures(country: str, channel: str, language: str, text: str) -> list[Finding]:
    # English wording counts in any template; Chinese wording only in a Chinese one.
    chinese = language.lower().startswith("zh")
    missing = []
    for d in _DISCLOSURES:
        if d.jurisdiction != country or channel not in d.channels:
            continue
        patterns = [p for p in (d.en, d.zh if chinese or d.en is None else None) if p is not None]
        if not any(p.search(text) for p in patterns):
            missing.append(Finding(d.rule, MISSING, (0, 0), d.message))
    return missing
