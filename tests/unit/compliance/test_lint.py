"""Template lint: forbidden content in both languages, required disclosures, false-positive guards."""

from __future__ import annotations

import pytest

from compliance.domain.lint import (
    ALL_CATEGORIES,
    WORD_RULES,
    Finding,
    UnknownJurisdictionError,
    lint_rules,
    lint_template,
    mask_template_tags,
)

pytestmark = pytest.mark.unit

CN_REMINDER = "【某某资产】您好，您在花呗的账单已逾期，如有疑问请致电400-000-0000，感谢配合。回T退订"
US_REMINDER = (
    "This is a communication from a debt collector. Your payment of {{ amount }} is overdue. "
    "Reply STOP to opt out."
)
CONTENT_CATEGORIES = [c for c in ALL_CATEGORIES if c != "missing_disclosure"]


def content_findings(body: str, *, language: str = "en") -> list[Finding]:
    """GB e-mail needs no extra disclosure, so every finding is about content."""
    return lint_template(jurisdiction="GB", channel="email", language=language, body=body).findings


@pytest.mark.parametrize(
    ("jurisdiction", "channel", "language", "body"),
    [
        ("CN", "sms", "zh-CN", CN_REMINDER),
        (
            "CN",
            "sms",
            "zh-CN",
            "【某某资产】{{ name }}您好，您的借款还款日为{{ due_date }}，请查看垃圾邮件箱中的账单。退订回T",
        ),
        ("CN", "email", "zh-CN", "您好，您在花呗的账单已逾期{{ dpd }}天，如有疑问请致电客服。"),
        ("US-CA", "sms", "en", US_REMINDER),
        ("US", "email", "en", "Hello {{ first_name }},\n" + US_REMINDER + "\nThank you."),
        ("US-MA", "email", "en", "We are debt collectors. Pay at {{ link }}. To unsubscribe, click below."),
        ("US-NY", "sms", "zh-CN", "本信息来自债务催收机构。您的{{ amount }}账单已逾期。回复STOP或退订"),
        ("GB", "sms", "en", "Your account is in arrears. Please call us to discuss an affordable plan."),
    ],
)
def test_respectful_reminders_have_no_findings(
    jurisdiction: str, channel: str, language: str, body: str
) -> None:
    result = lint_template(jurisdiction=jurisdiction, channel=channel, language=language, body=body)

    assert result.findings == []
    assert result.ok


@pytest.mark.parametrize(
    ("category", "body"),
    [
        ("threat_violence", "Pay today or you will be arrested."),
        ("threat_violence", "You could go to jail for this."),
        ("threat_violence", "We will file criminal charges."),
        ("threat_violence", "You'll regret ignoring us."),
        ("threat_violence", "We know where you live."),
        ("threat_violence", "We will take legal action tomorrow."),
        ("threat_violence", "不还钱就让你坐牢"),
        ("threat_violence", "再不还我们就抓你"),
        ("threat_violence", "小心弄死你"),
        ("threat_violence", "明天上门闹"),
        ("threat_violence", "逾期不还后果自负"),
        ("false_authority", "A court order has been issued."),
        ("false_authority", "The police will visit you."),
        ("false_authority", "This is an official notice from the court."),
        ("false_authority", "Our attorneys are reviewing your file."),
        ("false_authority", "Your case was referred to our solicitors."),
        ("false_authority", "我们已申请法院传票"),
        ("false_authority", "已移交公安处理"),
        ("false_authority", "今日将向您发送律师函"),
        ("disclosure_shaming", "We will tell your employer about this debt."),
        ("disclosure_shaming", "We will contact your family."),
        ("disclosure_shaming", "Your name will go on social media."),
        ("disclosure_shaming", "通知你的家人"),
        ("disclosure_shaming", "我们将通知您的单位"),
        ("disclosure_shaming", "短信将发到你的通讯录"),
        ("disclosure_shaming", "将在网上曝光"),
        ("disclosure_shaming", "我们会公开你的欠款信息"),
        ("abuse_insult", "Pay up, deadbeat."),
        ("abuse_insult", "Only a loser ignores bills."),
        ("abuse_insult", "You scum."),
        ("abuse_insult", "What the shit are you doing"),
        ("abuse_insult", "你这个骗子"),
        ("abuse_insult", "老赖赶紧还钱"),
        ("abuse_insult", "别当无赖"),
        ("coercive_financing_fees", "Borrow from another app if you must."),
        ("coercive_financing_fees", "Take a loan to pay this balance."),
        ("coercive_financing_fees", "A collection fee of $40 applies."),
        ("coercive_financing_fees", "A penalty fee will be added tomorrow."),
        ("coercive_financing_fees", "可以以贷养贷"),
        ("coercive_financing_fees", "去别的平台借钱还上"),
        ("coercive_financing_fees", "将收取额外手续费"),
        ("deceptive_pretext", "Your package delivery failed, call us."),
        ("deceptive_pretext", "Congratulations, you have won!"),
        ("deceptive_pretext", "This is not an attempt to collect a debt."),
        ("deceptive_pretext", "您有一个快递待领取"),
        ("deceptive_pretext", "恭喜您中奖了"),
    ],
)
def test_each_category_triggers(category: str, body: str) -> None:
    language = "en" if body.isascii() else "zh-CN"
    findings = [f for f in content_findings(body, language=language) if f.category == category]

    assert findings, f"{body!r} should raise {category}"
    start, end = findings[0].span
    assert 0 <= start < end <= len(body)


@pytest.mark.parametrize("category", CONTENT_CATEGORIES)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_word_table_covers_every_category_in_both_languages(category: str, language: str) -> None:
    assert any(row[1] == category and row[2] == language for row in WORD_RULES)


@pytest.mark.parametrize(
    "body",
    [
        "This collection notice is a courtesy reminder.",
        "We collect payments online; thank you for your courteous reply.",
        "Your account is in arrears.",
        "Please read our privacy policy.",
        "The product warranty is unaffected.",
        "A harmless question: may we call you back?",
        "Check your spam folder for the statement.",
        "We can assess whether a payment plan suits you.",
        "Reply STOP to stop these messages.",
        "请查看垃圾邮件箱",
        "您的借款还款日为每月5日",
        "如遇诈骗请报警",
        "还款不收取任何手续费",
        "如有疑问请联系我们的客服",
    ],
)
def test_harmless_text_is_not_flagged(body: str) -> None:
    assert content_findings(body) == []


def test_span_points_into_the_raw_body() -> None:
    body = "Dear {{ name }}, you are a deadbeat."

    (finding,) = content_findings(body)

    assert body[slice(*finding.span)] == "deadbeat"
    assert finding.rule == "abuse_insult.en.insult"


def test_chinese_span_is_character_offsets() -> None:
    body = "{{ 姓名 }}您好，再不还钱就让你坐牢"

    (finding,) = content_findings(body, language="zh-CN")

    assert body[slice(*finding.span)] == "坐牢"


@pytest.mark.parametrize(
    "body",
    [
        "Hello {{ arrest_date }} and {{ court_name | upper }}",
        "{% if police %}Hello{% endif %}",
        "{# loser #}Hello",
        "{{ '坐牢' }}您好",
    ],
)
def test_text_inside_template_tags_is_ignored(body: str) -> None:
    assert content_findings(body) == []


def test_masking_keeps_offsets() -> None:
    body = "a {{ x }} b {% y %} c"

    masked = mask_template_tags(body)

    assert len(masked) == len(body)
    assert masked.split() == ["a", "b", "c"]


def test_whitespace_between_words_does_not_hide_a_phrase() -> None:
    (finding,) = content_findings("We will tell\n your   employer.")

    assert finding.category == "disclosure_shaming"


@pytest.mark.parametrize("channel", ["sms", "email", "e-mail"])
def test_us_email_and_sms_need_both_disclosures(channel: str) -> None:
    result = lint_template(jurisdiction="US-CA", channel=channel, language="en", body="Your bill is overdue.")

    assert not result.ok
    assert [(f.rule, f.category, f.span) for f in result.findings] == [
        ("US.disclosure.debt_collector", "missing_disclosure", (0, 0)),
        ("US.disclosure.opt_out", "missing_disclosure", (0, 0)),
    ]


@pytest.mark.parametrize(
    "disclosure",
    [
        "This is a communication from a debt collector.",
        "This is an attempt to collect a debt.",
        "We are attempting to collect this debt.",
        "From ACME, a DEBT   COLLECTOR.",
    ],
)
def test_debt_collector_disclosure_variants(disclosure: str) -> None:
    result = lint_template(
        jurisdiction="US", channel="sms", language="en", body=f"{disclosure} Reply STOP to end."
    )

    assert result.ok, result.findings


@pytest.mark.parametrize(
    "body",
    [
        "Our collection department can help. Reply STOP to end.",
        "Contact {{ debt_collector }} today. Reply STOP to end.",
    ],
)
def test_collection_wording_or_a_placeholder_is_not_the_disclosure(body: str) -> None:
    result = lint_template(jurisdiction="US", channel="sms", language="en", body=body)

    assert [f.rule for f in result.findings] == ["US.disclosure.debt_collector"]


def test_denying_the_purpose_does_not_count_as_the_disclosure() -> None:
    result = lint_template(
        jurisdiction="US",
        channel="email",
        language="en",
        body="This is not an attempt to collect a debt. Unsubscribe",
    )

    assert {f.rule for f in result.findings} == {
        "US.disclosure.debt_collector",
        "deceptive_pretext.en.disguise",
    }


@pytest.mark.parametrize(
    "opt_out", ["Reply STOP to opt out.", 'Text "STOP" to end.', "Unsubscribe here.", "Opt-out: call us."]
)
def test_opt_out_variants(opt_out: str) -> None:
    body = f"This is a communication from a debt collector. {opt_out}"

    assert lint_template(jurisdiction="US-TX", channel="email", language="en", body=body).ok


@pytest.mark.parametrize("channel", ["push", "visit"])
def test_other_channels_need_no_disclosure_in_the_template(channel: str) -> None:
    assert lint_template(jurisdiction="US", channel=channel, language="en", body="Your bill is overdue.").ok


@pytest.mark.parametrize("channel", ["letter", "voice_call"])
def test_us_letters_and_calls_need_the_mini_miranda_but_no_opt_out(channel: str) -> None:
    bare = lint_template(jurisdiction="US-MA", channel=channel, language="en", body="Your bill is overdue.")
    disclosed = lint_template(
        jurisdiction="US",
        channel=channel,
        language="en",
        body="This is an attempt to collect a debt and any information obtained will be used for that purpose.",
    )

    assert [f.rule for f in bare.findings] == ["US.disclosure.debt_collector"]
    assert bare.findings[0].suggestion.startswith("Add:")
    assert disclosed.ok


@pytest.mark.parametrize(
    "opt_out", ["回T退订", "回复TD退订", "退订回T", "退订请回复TD", "拒收请回复R", "回复“退订”"]
)
def test_cn_sms_opt_out_variants(opt_out: str) -> None:
    body = f"【某某资产】您好，您的账单已逾期。{opt_out}"

    assert lint_template(jurisdiction="CN", channel="sms", language="zh-CN", body=body).ok


def test_cn_sms_without_opt_out_or_sender() -> None:
    result = lint_template(jurisdiction="CN", channel="sms", language="zh-CN", body="您好，您的账单已逾期。")

    assert [f.rule for f in result.findings] == ["CN.disclosure.opt_out", "CN.disclosure.sender"]
    assert all(f.span == (0, 0) for f in result.findings)


def test_gb_needs_no_extra_disclosure() -> None:
    assert lint_template(jurisdiction="GB", channel="sms", language="en", body="Your bill is overdue.").ok


def test_subject_is_linted_too() -> None:
    result = lint_template(
        jurisdiction="GB", channel="email", language="en", body="Hello.", subject="Final warning, deadbeat"
    )

    (finding,) = result.findings
    assert finding.category == "abuse_insult"
    assert finding.span == (0, 0)
    assert finding.message.startswith("Subject:")


def test_findings_are_ordered_by_position() -> None:
    findings = content_findings("You scum, the police will arrest you.")

    assert [f.category for f in findings] == ["abuse_insult", "false_authority", "threat_violence"]


def test_unknown_jurisdiction_is_refused() -> None:
    with pytest.raises(UnknownJurisdictionError):
        lint_template(jurisdiction="DE", channel="sms", language="en", body="Hello")


def test_rule_catalogue() -> None:
    rules = lint_rules()
    ids = [r["rule"] for r in rules]

    assert len(ids) == len(set(ids))
    assert {r["category"] for r in rules} == set(ALL_CATEGORIES)
    assert {"US.disclosure.debt_collector", "US.disclosure.opt_out", "CN.disclosure.opt_out"} <= set(ids)
    assert all(r["citation"] and r["message"] and r["pattern"] and r["suggestion"] for r in rules)


def test_findings_carry_a_suggestion_and_the_jurisdictions_citation() -> None:
    us = lint_template(jurisdiction="US", channel="letter", language="en", body="We will garnish your wages.")
    cn = lint_template(jurisdiction="CN", channel="letter", language="zh-CN", body="再不还钱就让你坐牢")

    (garnish,) = [f for f in us.findings if f.category == "threat_violence"]
    (jail,) = cn.findings
    assert garnish.suggestion and "FDCPA" in garnish.citation
    assert jail.suggestion and "NIFA" in jail.citation and "FDCPA" not in jail.citation


@pytest.mark.parametrize(
    "body",
    [
        "We will not contact your employer.",
        "Nobody will visit your home, and no fee will be added to your balance.",
        "We will never ask you to transfer money to a personal account.",
        "Beware of scammers who pretend to be the police and threaten arrest.",
        "If you think we have treated you unfairly, you may complain to the CFPB or the FCA.",
        "You may have the right to go to court if you dispute this debt.",
        'Some letters say "you will be arrested". That is not true.',
        "You cannot be arrested for this debt, and we have not filed any lawsuit.",
        "我们不会联系您的家人或单位，也不会收取任何额外费用。",
        "警惕冒充公检法的诈骗，我司不会要求您向个人账户转账。",
        "如对催收有异议，可向银保监会投诉。",
        "您咨询的“逾期会不会坐牢”的问题：普通逾期不会因此坐牢。",
    ],
)
def test_reassurances_warnings_rights_and_quotes_are_not_flagged(body: str) -> None:
    assert content_findings(body, language="zh-CN" if not body.isascii() else "en") == []


@pytest.mark.parametrize(
    ("category", "body"),
    [
        ("threat_violence", "Your wages will be garnished from next month."),
        ("threat_violence", "A lien will be recorded against your home."),
        ("threat_violence", "Your file has been referred to the district attorney."),
        ("threat_violence", "Our agent will be waiting outside your house tonight."),
        ("threat_violence", "明天我们的人就去你家门口等你。"),
        ("false_authority", "This is a final notice from the National Debt Enforcement Division."),
        ("false_authority", "本通知由金融纠纷调解委员会出具。"),
        ("disclosure_shaming", "逾期信息将通报至您户籍所在地村委会。"),
        ("disclosure_shaming", "We have left messages with your coworkers about this."),
        ("abuse_insult", "Grow a spine and answer your phone."),
        ("coercive_financing_fees", "A $25 text-reminder fee has been charged to your account."),
        ("coercive_financing_fees", "您的账户已产生催收服务费300元。"),
    ],
)
def test_threats_without_the_old_keywords_are_found(category: str, body: str) -> None:
    findings = content_findings(body, language="en" if body.isascii() else "zh-CN")

    assert category in {f.category for f in findings}, findings
