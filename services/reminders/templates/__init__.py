"""Reminder templates: sandboxed Jinja2 rendering, and (in `defaults/`) the default strategy of each
jurisdiction shipped with the product as YAML.

Templates are written by tenants' ops staff, so they render in an immutable sandbox, with strict
undefined variables, and may use only the variables in `ALLOWED_VARIABLES`: nothing that identifies
the borrower, since a message can be read by someone other than the borrower.

They are mail-merge text, and every tenant's templates render on the same event loop: a template
may fill in variables, test them with `{% if %}` and pass them through the filters in
`ALLOWED_FILTERS`, whose output grows at most linearly with their input. Loops, macros, `{% set %}`,
calls, attribute and item access and every Jinja global are refused, both when a strategy is saved
(`check_template`) and before anything renders, so the work and the output of a render are bounded
by the template's size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache, wraps
from typing import Any, Final

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, nodes
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.filters import FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS

ALLOWED_VARIABLES: Final = frozenset(
    {"lender_name", "amount", "currency", "due_date", "dpd", "agency_name", "agency_phone", "pay_url"}
)
MAX_OUTPUT_CHARS: Final = 20_000
# Filters whose output is at most a few times their input (escape: five), never a width or a count.
ALLOWED_FILTERS: Final = frozenset(
    {"upper", "lower", "title", "capitalize", "trim", "truncate"}
    | {"default", "d", "escape", "e", "round", "int"}
)
ALLOWED_TESTS: Final = frozenset(
    {"defined", "undefined", "none", "number", "string", "integer", "float", "boolean", "true", "false"}
    | {"even", "odd", "divisibleby", "eq", "ne", "lt", "le", "gt", "ge", "in", "lower", "upper"}
)
# Deeper trees than honest templates need; it also keeps Jinja's parser and compiler off their limits.
MAX_NESTING: Final = 24
# `round` computes 10 ** precision: a precision of a million takes seconds.
MAX_ROUND_DIGITS: Final = 10

# Mail merge: text, variables, conditions, allowed filters and tests, operators on what they yield.
_ALLOWED_NODES: Final = frozenset(
    {
        nodes.Template, nodes.Output, nodes.TemplateData, nodes.Const, nodes.Name, nodes.If,
        nodes.CondExpr, nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos, nodes.Compare,
        nodes.Operand, nodes.Concat, nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv,
        nodes.Filter, nodes.Test, nodes.Keyword, nodes.Tuple, nodes.List,
    }
)  # fmt: skip
_FORBIDDEN: Final[Mapping[type[nodes.Node], str]] = {
    nodes.For: "loops ({% for %}) are not allowed",
    nodes.Macro: "macros ({% macro %}) are not allowed",
    nodes.CallBlock: "call blocks ({% call %}) are not allowed",
    nodes.Call: "calling a function or a method is not allowed",
    nodes.Assign: "{% set %} is not allowed",
    nodes.AssignBlock: "{% set %} is not allowed",
    nodes.FilterBlock: "filter blocks ({% filter %}) are not allowed",
    nodes.With: "{% with %} is not allowed",
    nodes.Include: "{% include %} is not allowed",
    nodes.Import: "{% import %} is not allowed",
    nodes.FromImport: "{% from ... import %} is not allowed",
    nodes.Extends: "{% extends %} is not allowed",
    nodes.Block: "{% block %} is not allowed",
    nodes.Scope: "{% autoescape %} is not allowed",
    nodes.ScopedEvalContextModifier: "{% autoescape %} is not allowed",
    nodes.Getitem: "indexing and slicing ([...]) are not allowed",
    nodes.Slice: "indexing and slicing ([...]) are not allowed",
    nodes.Dict: "dict literals are not allowed",
    nodes.Pair: "dict literals are not allowed",
    nodes.Mod: "the % operator (string formatting) is not allowed",
    nodes.Pow: "the power operator (**) is not allowed",
}


class TemplateRenderError(ValueError):
    """A template that does not parse, uses a missing variable or tries something the sandbox forbids."""


class _ReminderSandbox(ImmutableSandboxedEnvironment):
    # Unchecked, `{{ 'x' * 10**9 }}` would let a template exhaust memory; intercepting `*` also keeps
    # the compiler from folding it into a constant.
    intercepted_binops = frozenset({"*"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if isinstance(left, str | bytes | list | tuple) or isinstance(right, str | bytes | list | tuple):
            raise SecurityError("repeating a sequence is not allowed in templates")
        return super().call_binop(context, operator, left, right)


def _bounded(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` as a filter that refuses a result longer than any message may be."""

    @wraps(function)  # keeps Jinja's pass_environment marker
    def bounded(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if isinstance(result, str) and len(result) > MAX_OUTPUT_CHARS:
            raise SecurityError(f"a filter's result is longer than {MAX_OUTPUT_CHARS} characters")
        return result

    return bounded


def _precision_problem(precision: Any) -> str | None:
    if isinstance(precision, int) and abs(precision) <= MAX_ROUND_DIGITS:
        return None
    return f"round takes a precision between -{MAX_ROUND_DIGITS} and {MAX_ROUND_DIGITS}"


def _round(value: Any, precision: Any = 0, method: str = "common") -> Any:
    problem = _precision_problem(precision)
    if problem is not None:
        raise SecurityError(problem)
    return FILTERS["round"](value, precision, method)


@lru_cache(maxsize=2)
def _environment(html: bool) -> _ReminderSandbox:
    environment = _ReminderSandbox(
        undefined=StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.globals.clear()
    filters = {name: FILTERS[name] for name in ALLOWED_FILTERS} | {"round": _round}
    environment.filters = {name: _bounded(function) for name, function in filters.items()}
    environment.tests = {name: TESTS[name] for name in ALLOWED_TESTS}
    return environment


def _parse(environment: _ReminderSandbox, template: str) -> nodes.Template:
    try:
        return environment.parse(template)
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(f"syntax error on line {exc.lineno}: {exc.message}") from exc
    except RecursionError as exc:
        raise TemplateRenderError(f"expressions nested more than {MAX_NESTING} levels deep") from exc
    except ValueError as exc:  # an integer literal of more than 4,300 digits
        raise TemplateRenderError(f"cannot parse: {exc}") from exc


def _fixed(node: nodes.Expr, unknown: Any) -> Any:
    """The value of `node` when the template fixes it, else `unknown`."""
    try:
        return node.as_const()
    except nodes.Impossible:
        return unknown


def _filter_problem(node: nodes.Filter | nodes.Test) -> str | None:
    kind, allowed = ("filter", ALLOWED_FILTERS) if isinstance(node, nodes.Filter) else ("test", ALLOWED_TESTS)
    if node.name not in allowed:
        return f"the {kind} {node.name!r} is not allowed; allowed: {', '.join(sorted(allowed))}"
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        return f"spreading arguments (*args, **kwargs) into the {kind} {node.name!r} is not allowed"
    if kind == "filter" and node.name == "round":
        given = node.args[:1] or [k.value for k in node.kwargs if k.key == "precision"]
        # A precision known only when the template renders is checked then.
        return _precision_problem(_fixed(given[0], unknown=0)) if given else None
    return None


def _problem(node: nodes.Node) -> str | None:
    """Why `node` has no place in a mail-merge template, or None when it has."""
    if isinstance(node, nodes.Filter | nodes.Test):
        return _filter_problem(node)
    if isinstance(node, nodes.Name) and node.name in DEFAULT_NAMESPACE:
        return f"the global {node.name!r} is not allowed"
    if isinstance(node, nodes.Getattr):
        return f"access to attribute {node.attr!r} is not allowed"
    if type(node) in _ALLOWED_NODES:
        return None
    return _FORBIDDEN.get(type(node), f"{type(node).__name__} is not allowed")


def _inspect(tree: nodes.Template) -> tuple[list[str], set[str]]:
    """What in `tree` is not allowed (each once, inner constructs too), and the variables it reads
    outside of those."""
    problems: dict[str, None] = {}
    names: set[str] = set()

    def visit(node: nodes.Node, depth: int, allowed: bool) -> None:
        if depth > MAX_NESTING:
            problems[f"expressions nested more than {MAX_NESTING} levels deep"] = None
            return
        problem = _problem(node)
        if problem is not None:
            problems[problem] = None
        elif allowed and isinstance(node, nodes.Name):
            names.add(node.name)
        for child in node.iter_child_nodes():
            visit(child, depth + 1, allowed and problem is None)

    visit(tree, 0, True)
    return list(problems), names


@lru_cache(maxsize=512)
def _compile(template: str, html: bool) -> Template:
    environment = _environment(html)
    tree = _parse(environment, template)
    forbidden, _ = _inspect(tree)
    if forbidden:
        raise SecurityError("; ".join(forbidden))
    return environment.from_string(tree)


def render(template: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    """Render `template` with `context` in the sandbox; autoescaping only when `html` (SMS, voice,
    push and plain-text e-mail are not HTML). Raises TemplateRenderError on a missing variable, a
    syntax error, a forbidden construct or operation, any error of the template's own expressions,
    or output longer than MAX_OUTPUT_CHARS."""
    try:
        text = _compile(template, html).render(dict(context))
    except TemplateRenderError:
        raise
    except SecurityError as exc:
        raise TemplateRenderError(f"forbidden in templates: {exc}") from exc
    except UndefinedError as exc:
        raise TemplateRenderError(f"undefined variable: {exc}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(f"cannot render: {exc}") from exc
    except Exception as exc:  # the template's own expression failed: 1 / 0, 'x' - 1, a 5,000-digit number
        raise TemplateRenderError(f"cannot render: {type(exc).__name__}: {exc}") from exc
    if len(text) > MAX_OUTPUT_CHARS:
        raise TemplateRenderError(f"rendered text is longer than {MAX_OUTPUT_CHARS} characters")
    return text


def check_template(template: str) -> list[str]:
    """Problems that make `template` unusable, found without rendering: a syntax error, a construct
    mail merge does not need (a loop, a call, a filter outside ALLOWED_FILTERS...) or a variable
    outside ALLOWED_VARIABLES. Empty when the template is fine."""
    try:
        tree = _parse(_environment(False), template)
    except TemplateRenderError as exc:
        return [str(exc)]
    forbidden, names = _inspect(tree)
    unknown = sorted(names - ALLOWED_VARIABLES)
    allowed = ", ".join(sorted(ALLOWED_VARIABLES))
    return forbidden + [f"unknown variable {name!r}; allowed: {allowed}" for name in unknown]


__all__ = [
    "ALLOWED_FILTERS",
    "ALLOWED_TESTS",
    "ALLOWED_VARIABLES",
    "MAX_OUTPUT_CHARS",
    "TemplateRenderError",
    "check_template",
    "render",
]
