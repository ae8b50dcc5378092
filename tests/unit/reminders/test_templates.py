"""Sandboxed rendering, and the default strategies: every template renders and passes compliance's lint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from compliance.domain.lint import lint_template
from reminders.domain.strategy import DEFAULT_JURISDICTIONS, Strategy, load_default
from reminders.templates import TemplateRenderError, check_template, render

pytestmark = pytest.mark.unit

AMOUNT = "1,234.50"
CONTEXT: dict[str, str | int] = {
    "lender_name": "华信贷款",
    "amount": AMOUNT,
    "currency": "CNY",
    "due_date": "2026-10-15",
    "dpd": 12,
    "agency_name": "安信资产",
    "agency_phone": "400-000-0000",
    "pay_url": "https://pay.example/p/abc?x=1&y=2",
}
# (jurisdiction, dpd, channel, language, subject, body) for every message of every default strategy.
Message = tuple[str, int, str, str, str | None, str]


def default_messages() -> Iterator[Message]:
    for jurisdiction in DEFAULT_JURISDICTIONS:
        strategy = load_default(jurisdiction)
        for step in strategy.steps:
            for carrier in (step, step.fallback):
                if carrier is None or not carrier.templates:
                    continue
                for language, body in carrier.templates.items():
                    subject = (carrier.subject or {}).get(language)
                    yield jurisdiction, step.dpd, carrier.channel, language, subject, body


MESSAGES = list(default_messages())
US_MESSAGES = [m for m in MESSAGES if m[0] == "US"]


def message_id(message: Message) -> str:
    jurisdiction, dpd, channel, language, _, _ = message
    return f"{jurisdiction}-{dpd}-{channel}-{language}"


class TestRender:
    def test_fills_variables_without_escaping_plain_text(self) -> None:
        text = render("{{ agency_name }}：请访问 {{ pay_url }}，逾期{{ dpd }}天", CONTEXT)
        assert text == "安信资产：请访问 https://pay.example/p/abc?x=1&y=2，逾期12天"

    def test_html_rendering_escapes(self) -> None:
        assert render("<p>{{ lender_name }}</p>", {"lender_name": "A&B <Loans>"}, html=True) == (
            "<p>A&amp;B &lt;Loans&gt;</p>"
        )

    def test_a_missing_variable_raises(self) -> None:
        with pytest.raises(TemplateRenderError, match="undefined variable: 'borrower_name' is undefined"):
            render("您好 {{ borrower_name }}", CONTEXT)

    def test_a_missing_variable_raises_even_when_only_tested(self) -> None:
        with pytest.raises(TemplateRenderError, match="undefined"):
            render("{% if borrower_name %}x{% endif %}", CONTEXT)

    @pytest.mark.parametrize(
        "template",
        [
            "{{ ''.__class__ }}",
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{{ lender_name.__init__.__globals__ }}",
            "{{ render.__globals__ }}",
            "{{ [].append(1) }}",
            "{% set d = {} %}{{ d.update(a=1) }}",
            "{{ 'x' * 100000000 }}",
            "{{ 9 ** 9 ** 9 }}",
        ],
    )
    def test_the_sandbox_refuses_unsafe_access(self, template: str) -> None:
        with pytest.raises(TemplateRenderError):
            render(template, {**CONTEXT, "render": render})

    def test_the_sandbox_error_says_why(self) -> None:
        with pytest.raises(
            TemplateRenderError, match="forbidden in templates: access to attribute '__class__'"
        ):
            render("{{ ''.__class__ }}", {})

    def test_a_syntax_error_raises(self) -> None:
        with pytest.raises(TemplateRenderError, match="syntax error on line 2"):
            render("ok\n{% if %}", CONTEXT)

    def test_overlong_output_is_refused(self) -> None:
        with pytest.raises(TemplateRenderError, match="longer than"):
            render("{% for i in range(30000) %}x{% endfor %}", {})

    def test_check_template_names_unknown_variables_and_syntax_errors(self) -> None:
        assert check_template("{{ amount }} {{ currency }}") == []
        [unknown] = check_template("{{ amount }} {{ borrower_name }}")
        assert "unknown variable 'borrower_name'" in unknown
        [syntax] = check_template("{{ amount ")
        assert syntax.startswith("syntax error on line 1")


class TestDefaults:
    @pytest.mark.parametrize("message", MESSAGES, ids=message_id)
    def test_template_uses_only_allowed_variables(self, message: Message) -> None:
        _, _, _, _, subject, body = message
        assert check_template(body) == []
        assert subject is None or check_template(subject) == []

    @pytest.mark.parametrize("message", MESSAGES, ids=message_id)
    def test_template_passes_compliance_lint_as_written(self, message: Message) -> None:
        jurisdiction, _, channel, language, subject, body = message
        result = lint_template(
            jurisdiction=jurisdiction, channel=channel, language=language, body=body, subject=subject
        )
        assert result.findings == []

    @pytest.mark.parametrize("message", US_MESSAGES, ids=message_id)
    @pytest.mark.parametrize("state", ["US-CA", "US-MA"])
    def test_us_templates_pass_state_lint(self, message: Message, state: str) -> None:
        _, _, channel, language, subject, body = message
        result = lint_template(
            jurisdiction=state, channel=channel, language=language, body=body, subject=subject
        )
        assert result.ok

    @pytest.mark.parametrize("message", MESSAGES, ids=message_id)
    def test_template_renders_and_passes_lint_as_sent(self, message: Message) -> None:
        jurisdiction, _, channel, language, subject, body = message
        text = render(body, CONTEXT)
        title = render(subject, CONTEXT) if subject is not None else None

        assert "{{" not in text and "}}" not in text
        assert text == text.strip()
        result = lint_template(
            jurisdiction=jurisdiction, channel=channel, language=language, body=text, subject=title
        )
        assert result.findings == []

    @pytest.mark.parametrize("message", MESSAGES, ids=message_id)
    def test_required_wording(self, message: Message) -> None:
        jurisdiction, _, channel, language, _, body = message
        text = render(body, CONTEXT)
        if jurisdiction == "CN" and channel == "sms":
            assert text.startswith("【安信资产】")
            assert text.endswith("回T退订")
        if jurisdiction == "US" and channel in {"sms", "email"}:
            assert ("debt collector" if language == "en" else "债务催收机构") in text
            opt_out = {"en": {"sms": "Reply STOP to opt out", "email": "unsubscribe"}, "zh-CN": {}}
            assert opt_out[language].get(channel, "退订") in text
        if channel == "push":
            # Lock screens are public: a push says nothing of the debt or the amount.
            assert AMOUNT not in text
            assert "debt" not in text.lower()

    @pytest.mark.parametrize("jurisdiction", DEFAULT_JURISDICTIONS)
    def test_every_message_has_english_and_chinese(self, jurisdiction: str) -> None:
        languages: dict[tuple[int, str], set[str]] = {
            (dpd, channel): set() for j, dpd, channel, _, _, _ in MESSAGES if j == jurisdiction
        }
        for j, dpd, channel, language, _, _ in MESSAGES:
            if j == jurisdiction:
                languages[(dpd, channel)].add(language)
        assert all(found == {"en", "zh-CN"} for found in languages.values())

    @pytest.mark.parametrize("jurisdiction", DEFAULT_JURISDICTIONS)
    def test_ladder_shape(self, jurisdiction: str) -> None:
        strategy = load_default(jurisdiction)
        first = strategy.steps[0]
        assert (first.dpd, first.channel) == (0, "sms")
        assert first.fallback is not None and first.fallback.channel == "email"
        assert {s.channel for s in strategy.steps} == {"sms", "email", "push", "call_task"}
        assert [v.name for v in strategy.variants] == ["champion"]

    @pytest.mark.parametrize(("jurisdiction", "to"), [("CN", "visit"), ("US", "review"), ("GB", "review")])
    def test_escalation_target(self, jurisdiction: str, to: str) -> None:
        escalation = load_default(jurisdiction).escalation
        assert escalation is not None and escalation.to == to
        assert set(escalation.unless) == {"active_promise", "active_plan"}

    def test_a_default_is_a_valid_strategy_document_in_json(self) -> None:
        strategy = load_default("CN")
        document = strategy.model_dump(mode="json", exclude_none=True)
        assert Strategy.model_validate(document) == strategy
