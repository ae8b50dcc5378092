"""Reminder templates: sandboxed Jinja2 rendering, and (in `defaults/`) the default strategy of each
jurisdiction shipped with the product as YAML.

Templates are written by tenants' ops staff, so they render in an immutable sandbox, with strict
undefined variables, and may use only the variables in `ALLOWED_VARIABLES`: nothing that identifies
the borrower, since a message can be read by someone other than the borrower.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

ALLOWED_VARIABLES: Final = frozenset(
    {"lender_name", "amount", "currency", "due_date", "dpd", "agency_name", "agency_phone", "pay_url"}
)
MAX_OUTPUT_CHARS: Final = 20_000


class TemplateRenderError(ValueError):
    """A template that does not parse, uses a missing variable or tries something the sandbox forbids."""


class _ReminderSandbox(ImmutableSandboxedEnvironment):
    # Unchecked, `{{ 'x' * 10**9 }}` would let a template exhaust memory.
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("the power operator is not allowed in templates")
        if isinstance(left, str | bytes | list | tuple) or isinstance(right, str | bytes | list | tuple):
            raise SecurityError("repeating a sequence is not allowed in templates")
        return super().call_binop(context, operator, left, right)


@lru_cache(maxsize=2)
def _environment(html: bool) -> _ReminderSandbox:
    return _ReminderSandbox(
        undefined=StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


@lru_cache(maxsize=512)
def _compile(template: str, html: bool) -> Template:
    return _environment(html).from_string(template)


def render(template: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    """Render `template` with `context` in the sandbox; autoescaping only when `html` (SMS, voice,
    push and plain-text e-mail are not HTML). Raises TemplateRenderError on a missing variable, a
    syntax error, a forbidden operation or output longer than MAX_OUTPUT_CHARS."""
    try:
        text = _compile(template, html).render(dict(context))
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(f"syntax error on line {exc.lineno}: {exc.message}") from exc
    except SecurityError as exc:
        raise TemplateRenderError(f"forbidden in templates: {exc}") from exc
    except UndefinedError as exc:
        raise TemplateRenderError(f"undefined variable: {exc}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(f"cannot render: {exc}") from exc
    if len(text) > MAX_OUTPUT_CHARS:
        raise TemplateRenderError(f"rendered text is longer than {MAX_OUTPUT_CHARS} characters")
    return text


def check_template(template: str) -> list[str]:
    """Problems that make `template` unusable, found without rendering: a syntax error or a variable
    outside ALLOWED_VARIABLES. Empty when the template is fine."""
    environment = _environment(False)
    try:
        parsed = environment.parse(template)
    except TemplateSyntaxError as exc:
        return [f"syntax error on line {exc.lineno}: {exc.message}"]
    unknown = sorted(meta.find_undeclared_variables(parsed) - ALLOWED_VARIABLES)
    return [f"unknown variable {name!r}; allowed: {', '.join(sorted(ALLOWED_VARIABLES))}" for name in unknown]


__all__ = ["ALLOWED_VARIABLES", "MAX_OUTPUT_CHARS", "TemplateRenderError", "check_template", "render"]
