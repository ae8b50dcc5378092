"""Sandboxed rendering, and the default strategies: every template renders and passes compliance's lint."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from compliance.domain.lint import lint_template
from reminders.domain.strategy import DEFAULT_JURISDICTIONS, Strategy, load_default
from reminders.templates import MAX_OUTPUT_CHARS, TemplateRenderError, check_template, render

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
            render("x" * (MAX_OUTPUT_CHARS + 1), {})

    def test_check_template_names_unknown_variables_and_syntax_errors(self) -> None:
        assert check_template("{{ amount }} {{ currency }}") == []
        [unknown] = check_template("{{ amount }} {{ borrower_name }}")
        assert "unknown variable 'borrower_name'" in unknown
        [syntax] = check_template("{{ amount ")
        assert syntax.startswith("syntax error on line 1")


NESTED_LOOPS = "{% for a in range(99999) %}{% for b in range(99999) %}x{% endfor %}{% endfor %}"
# (template, what the check and the sandbox say about it): nothing mail merge needs, each able to
# make a render run for long, grow without bound, or reach past the variables it is given.
FORBIDDEN = [
    (NESTED_LOOPS, "loops ({% for %}) are not allowed"),
    ("{% for a in [1, 2, 3] %}{{ amount }}{% endfor %}", "loops ({% for %}) are not allowed"),
    ("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}", "macros ({% macro %}) are not allowed"),
    ("{% call lipsum() %}x{% endcall %}", "call blocks ({% call %}) are not allowed"),
    ("{% set a = 'xx' %}{% set a = a ~ a %}{% set a = a ~ a %}{{ a }}", "{% set %} is not allowed"),
    ("{% set a %}{{ amount }}{% endset %}{{ a }}", "{% set %} is not allowed"),
    ("{% with a = amount %}{{ a }}{% endwith %}", "{% with %} is not allowed"),
    ("{% filter upper %}{{ amount }}{% endfilter %}", "filter blocks ({% filter %}) are not allowed"),
    ("{% autoescape false %}{{ lender_name }}{% endautoescape %}", "{% autoescape %} is not allowed"),
    ("{% include 'other' %}", "{% include %} is not allowed"),
    ("{% import 'other' as other %}", "{% import %} is not allowed"),
    ("{% extends 'other' %}", "{% extends %} is not allowed"),
    ("{% block body %}x{% endblock %}", "{% block %} is not allowed"),
    ("{{ range(99999)|length }}", "the global 'range' is not allowed"),
    ("{{ lipsum(99999, false, 99999, 99999) }}", "the global 'lipsum' is not allowed"),
    ("{{ cycler }}", "the global 'cycler' is not allowed"),
    ("{{ joiner }}", "the global 'joiner' is not allowed"),
    ("{{ namespace }}", "the global 'namespace' is not allowed"),
    ("{{ dict(a=amount) }}", "the global 'dict' is not allowed"),
    ("{{ '{:>999999999}'.format(amount) }}", "calling a function or a method is not allowed"),
    ("{{ amount.upper }}", "access to attribute 'upper' is not allowed"),
    ("{{ amount[0] }}", "indexing and slicing ([...]) are not allowed"),
    ("{{ {'a': amount} }}", "dict literals are not allowed"),
    ("{{ '%999999999s' % amount }}", "the % operator (string formatting) is not allowed"),
    ("{{ 9 ** 9 ** 9 }}", "the power operator (**) is not allowed"),
    ("{{ amount|center(999999999) }}", "the filter 'center' is not allowed"),
    ("{{ amount|format(999999999) }}", "the filter 'format' is not allowed"),
    ("{{ amount|wordwrap(999999999) }}", "the filter 'wordwrap' is not allowed"),
    ("{{ amount|indent(999999999) }}", "the filter 'indent' is not allowed"),
    (
        "{{ 'x'|replace('x', 'xx')|replace('x', 'xx')|replace('x', 'xx') }}",
        "the filter 'replace' is not allowed",
    ),
    ("{{ '%'|urlencode|urlencode|urlencode }}", "the filter 'urlencode' is not allowed"),
    ("{{ [amount, amount]|join(amount) }}", "the filter 'join' is not allowed"),
    ("{{ amount|list }}", "the filter 'list' is not allowed"),
    ("{{ amount|truncate(*[5]) }}", "spreading arguments (*args, **kwargs) into the filter 'truncate'"),
    ("{% if amount is callable %}x{% endif %}", "the test 'callable' is not allowed"),
    ("{{ 5|round(-10000000) }}", "round takes a precision between -10 and 10"),
    ("{{ 5|round(precision=10000000, method='ceil') }}", "round takes a precision between -10 and 10"),
    ("{{ pay_url" + "|e" * 30 + " }}", "expressions nested more than 24 levels deep"),
    ("{{ " + "not " * 30 + "dpd }}", "expressions nested more than 24 levels deep"),
    ("{{ " + " * ".join(["99999999999"] * 600) + " }}", "expressions nested more than 24 levels deep"),
]
FORBIDDEN_IDS = [what for _, what in FORBIDDEN]


class TestMailMergeOnly:
    @pytest.mark.parametrize(("template", "what"), FORBIDDEN, ids=FORBIDDEN_IDS)
    def test_saving_it_is_refused_saying_what_is_forbidden(self, template: str, what: str) -> None:
        problems = check_template(template)

        assert any(what in problem for problem in problems), problems

    # One stored before the check refused it (or straight into the database) must fail, at once.
    @pytest.mark.timeout(5)
    @pytest.mark.parametrize(("template", "what"), FORBIDDEN, ids=FORBIDDEN_IDS)
    def test_rendering_one_stored_anyway_fails_before_it_runs(self, template: str, what: str) -> None:
        with pytest.raises(TemplateRenderError, match=f"forbidden in templates: .*{re.escape(what)}"):
            render(template, CONTEXT)

    def test_every_construct_is_named_once(self) -> None:
        assert check_template(NESTED_LOOPS) == [
            "loops ({% for %}) are not allowed",
            "calling a function or a method is not allowed",
            "the global 'range' is not allowed",
        ]

    @pytest.mark.timeout(5)
    def test_a_round_precision_known_only_when_it_renders_is_bounded_then(self) -> None:
        assert check_template("{{ 5|round(dpd) }}") == []
        with pytest.raises(TemplateRenderError, match="round takes a precision between -10 and 10"):
            render("{{ 5|round(dpd) }}", {**CONTEXT, "dpd": -10_000_000})

    def test_a_filter_may_not_grow_a_value_past_what_a_message_may_hold(self) -> None:
        with pytest.raises(TemplateRenderError, match=f"a filter's result is longer than {MAX_OUTPUT_CHARS}"):
            render("{{ lender_name|e }}", {"lender_name": '"' * 5_000})

    @pytest.mark.parametrize(
        ("template", "error"),
        [
            ("{{ dpd / 0 }}", "ZeroDivisionError"),
            ("{{ amount - 1 }}", "TypeError"),
            ("{% if dpd is divisibleby(0) %}x{% endif %}", "ZeroDivisionError"),
            ("{{ " + "9" * 4_000 + " * " + "9" * 4_000 + " }}", "Exceeds the limit"),
            ("{{ " + "9" * 5_000 + " }}", "Exceeds the limit"),
            ("{{ " + "(" * 400 + "dpd" + ")" * 400 + " }}", "nested more than 24 levels deep"),
        ],
    )
    def test_what_the_templates_own_expressions_raise_is_a_render_error(
        self, template: str, error: str
    ) -> None:
        with pytest.raises(TemplateRenderError, match=error):
            render(template, CONTEXT)

    @pytest.mark.parametrize(
        "template",
        ["{{ " + "9" * 5_000 + " }}", "{{ " + "(" * 400 + "dpd" + ")" * 400 + " }}"],
        ids=["huge-integer", "deep-parentheses"],
    )
    def test_what_the_parser_cannot_take_is_a_problem_not_a_crash(self, template: str) -> None:
        [problem] = check_template(template)

        assert "cannot parse" in problem or "nested more than" in problem


# Templates as tenants write them (and as the other tests use them): variables, conditions, the
# allowed filters and tests, arithmetic and concatenation keep working.
HONEST = [
    (
        "{{ agency_name }}: This is a communication from a debt collector about your {{ lender_name }}"
        " account, balance {{ currency }} {{ amount }}. Pay at {{ pay_url }}. Reply STOP to opt out.",
        "安信资产: This is a communication from a debt collector about your 华信贷款 account, balance CNY"
        " 1,234.50. Pay at https://pay.example/p/abc?x=1&y=2. Reply STOP to opt out.",
    ),
    (
        "【{{ agency_name }}】您好，受{{ lender_name }}委托提醒您：待还{{ currency }} {{ amount }}。回T退订",
        "【安信资产】您好，受华信贷款委托提醒您：待还CNY 1,234.50。回T退订",
    ),
    ("Hi {{ amount }}", "Hi 1,234.50"),
    ("{% if dpd > 30 %}Long overdue{% elif dpd > 7 %}Overdue{% else %}Due{% endif %}", "Overdue"),
    ("{{ 'late' if dpd is gt 0 else 'due' }} {{ dpd is even }}", "late True"),
    ("{% if currency in ('CNY', 'USD') and dpd is number %}{{ amount }}{% endif %}", "1,234.50"),
    (
        "{{ currency|lower }} {{ 'ops team'|title }} {{ 'hello'|capitalize }} {{ 'x'|upper }}",
        "cny Ops Team Hello X",
    ),
    ("{{ '  {{ amount }}  '|trim }}|{{ pay_url|truncate(14) }}", "{{ amount }}|https://pay..."),
    (
        "{{ agency_phone|default('400') }} {{ dpd|d(0) }} {{ '<b>'|e }} {{ '&'|escape }}",
        "400-000-0000 12 &lt;b&gt; &amp;",
    ),
    (
        "{{ (dpd / 5)|round(1) }} {{ '42'|int + dpd }} {{ dpd * 2 }} {{ dpd // 5 }} {{ -dpd }}",
        "2.4 54 24 2 -12",
    ),
    ("{{ lender_name ~ ' / ' ~ agency_name }}{# a note #}", "华信贷款 / 安信资产"),
    ("{% raw %}{{ not rendered }}{% endraw %}", "{{ not rendered }}"),
]


class TestHonestTemplates:
    @pytest.mark.parametrize(("template", "expected"), HONEST)
    def test_it_checks_clean_and_renders(self, template: str, expected: str) -> None:
        assert check_template(template) == []
        assert render(template, CONTEXT) == expected


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
