"""Response template text: what syntax a template may use, which variables exist, and rendering.

Templates are Jinja2 run in its SandboxedEnvironment, and on top of that restricted to one shape:
`{{ variable }}`, `{{ dotted.attribute }}`, a fallback `{{ customer.first_name | "cliente" }}` and
the formatting filters below. No statements, no expressions, no calls: a template is written by a
supervisor but rendered with customers' data, so the less it can do the less can go wrong. The
syntax is checked on the parsed tree (not with regular expressions), when a template is saved.

Pure functions, no database: resolvers/templates.py loads the values and calls these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency, format_decimal
from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from resolvers.errors import BadInput

# The attributes a template may read, by object. The Portuguese short names stay: agents
# already write {{nome}}, {{empresa}} and {{data}}.
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "customer": ("name", "first_name", "phone", "email"),
    "agent": ("name", "first_name", "email"),
    "conversation": ("id", "status", "priority", "created_at", "language"),
    "channel": ("name", "platform"),
}
SHORT_NAMES: dict[str, str] = {
    "nome": "customer's name",
    "empresa": "the company: the channel's display name, else the channel's name",
    "data": "today's date in the customer's locale and time zone",
}
RESERVED = frozenset(ATTRIBUTES) | frozenset(SHORT_NAMES)
PROMPT_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")

# Filters: `date`/`datetime`/`time` take a babel format ("short", "medium", "long", "full" or a
# pattern), `number` and `currency` format in the customer's locale; `fallback` is what the
# `| "literal"` shorthand becomes.
FILTERS = ("fallback", "date", "datetime", "time", "number", "currency", "upper", "lower", "capitalize")

# `{{ x | "literal" }}`: the documented shorthand for a fallback. Jinja has no such syntax, so it
# is rewritten to `fallback("literal")` inside `{{ }}` before parsing; everything else is Jinja's.
_OUTPUT = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_SHORTHAND = re.compile(r"""\|\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
# What an unrendered placeholder looks like: it must never reach a customer.
_LEFTOVER = re.compile(r"\{\{|\}\}|\{%|%\}")


@dataclass(frozen=True)
class Usage:
    """One `{{ … }}` of a template: the variable it reads and whether it has a fallback."""

    path: str  # "nome", "customer.first_name", a prompt's name
    has_fallback: bool


@dataclass(frozen=True)
class RenderContext:
    values: dict[str, Any]  # "customer" → {...}, "nome" → "...", prompt name → value
    locale: str
    time_zone: str


class MissingValues(BadInput):
    """Values the send needs and does not have (no fallback for them)."""


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, finalize=_finalize)
    env.filters = {
        "fallback": _fallback,
        "date": _date,
        "datetime": _datetime,
        "time": _time,
        "number": _number,
        "currency": _currency,
        "upper": lambda v: str(v).upper(),
        "lower": lambda v: str(v).lower(),
        "capitalize": lambda v: str(v).capitalize(),
    }
    env.tests = {}
    env.globals = {}
    return env


def _rewrite(source: str) -> str:
    return _OUTPUT.sub(lambda m: _SHORTHAND.sub(r"| fallback(\1)", m.group(0)), source)


def check(source: str, prompts: set[str], field: str) -> list[Usage]:
    """The variables `source` reads. Raises BadInput naming the first thing not allowed: a syntax
    error, a statement, an expression, an unknown filter or an unknown variable."""
    try:
        tree = _ENV.parse(_rewrite(source))
    except TemplateSyntaxError as exc:
        raise BadInput(
            f"{field}: template syntax error on line {exc.lineno}: {exc.message}", field=field
        ) from None
    usages: list[Usage] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            raise BadInput(
                f"{field}: only {{{{ variable }}}} placeholders are allowed, no {{% … %}} statements",
                field=field,
            )
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                continue
            usages.append(_usage(child, prompts, field))
    return usages


def _usage(node: nodes.Node, prompts: set[str], field: str) -> Usage:
    has_fallback = False
    while isinstance(node, nodes.Filter):
        if node.name not in FILTERS:
            raise BadInput(
                f"{field}: unknown filter {node.name!r}; allowed: {', '.join(FILTERS)}", field=field
            )
        if (
            node.kwargs
            or node.dyn_args
            or node.dyn_kwargs
            or not all(isinstance(a, nodes.Const) for a in node.args)
        ):
            raise BadInput(f"{field}: the filter {node.name!r} takes only literal arguments", field=field)
        has_fallback = has_fallback or node.name == "fallback"
        node = node.node  # type: ignore[assignment]
    path = _path(node)
    if path is None:
        raise BadInput(
            f"{field}: a placeholder holds a variable name such as {{{{ nome }}}} or {{{{ customer.name }}}}",
            field=field,
        )
    root, _, attribute = path.partition(".")
    known = (
        (root in ATTRIBUTES and attribute in ATTRIBUTES[root]) or (path in SHORT_NAMES) or (path in prompts)
    )
    if not known:
        raise BadInput(
            f"{field}: unknown variable {{{{ {path} }}}}; declare it as a prompt or use one of: "
            f"{', '.join(known_variables())}",
            field=field,
            variable=path,
        )
    return Usage(path=path, has_fallback=has_fallback)


def _path(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        return f"{node.node.name}.{node.attr}"
    return None  # deeper chains, subscripts, calls, literals, arithmetic: not a variable


def known_variables() -> list[str]:
    return [*SHORT_NAMES, *(f"{root}.{a}" for root, attrs in ATTRIBUTES.items() for a in attrs)]


def render(source: str, context: RenderContext, prompts: set[str], field: str) -> str:
    """`source` with its variables filled in. Raises MissingValues naming every variable that has
    neither a value nor a fallback, and BadInput if anything template-like would reach the customer."""
    usages = check(source, prompts, field)
    missing = sorted(
        {u.path for u in usages if not u.has_fallback and _blank(_lookup(context.values, u.path))}
    )
    if missing:
        raise MissingValues(
            f"{field}: no value for {', '.join(missing)} in this conversation (give it, or add a fallback)",
            field=field,
            variables=missing,
        )
    text = _ENV.from_string(_rewrite(source)).render(
        **context.values, _locale=context.locale, _time_zone=context.time_zone
    )
    if _LEFTOVER.search(text):
        # A value itself looked like a placeholder (a customer named "{{x}}"): refuse rather than
        # send something that reads as a broken template.
        raise BadInput(f"{field}: the rendered text still contains template braces", field=field)
    return text


def _lookup(values: dict[str, Any], path: str) -> Any:
    root, _, attribute = path.partition(".")
    value = values.get(root)
    if attribute:
        value = value.get(attribute) if isinstance(value, dict) else None
    return value


def _blank(value: Any) -> bool:
    return value is None or isinstance(value, Undefined) or (isinstance(value, str) and not value.strip())


def locale_of(*candidates: str | None) -> str:
    """The first candidate babel knows ("pt-br", "pt_BR", "en"), normalised; else pt_BR."""
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return str(Locale.parse(candidate.replace("-", "_")))
        except (ValueError, UnknownLocaleError):
            continue
    return "pt_BR"


def valid_locale(value: str) -> bool:
    try:
        Locale.parse(value.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return False
    return True


def valid_time_zone(value: str) -> bool:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# ---- filters and the final formatting of every placeholder ---------------------------------------


def _fallback(value: Any, alternative: Any) -> Any:
    return alternative if _blank(value) else value


@pass_context
def _date(ctx: Context, value: Any, style: str = "medium") -> str:
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(ctx["_time_zone"])).date()
    return format_date(value, style, locale=ctx["_locale"]) if isinstance(value, date) else str(value)


@pass_context
def _datetime(ctx: Context, value: Any, style: str = "medium") -> str:
    if not isinstance(value, datetime):
        return str(value)
    return format_datetime(value, style, tzinfo=ZoneInfo(ctx["_time_zone"]), locale=ctx["_locale"])


@pass_context
def _time(ctx: Context, value: Any, style: str = "short") -> str:
    if not isinstance(value, datetime):
        return str(value)
    return format_time(value, style, tzinfo=ZoneInfo(ctx["_time_zone"]), locale=ctx["_locale"])


@pass_context
def _number(ctx: Context, value: Any) -> str:
    number = _as_number(value)
    return str(value) if number is None else format_decimal(number, locale=ctx["_locale"])


@pass_context
def _currency(ctx: Context, value: Any, code: str = "BRL") -> str:
    number = _as_number(value)
    return str(value) if number is None else format_currency(number, code, locale=ctx["_locale"])


def _as_number(value: Any) -> Decimal | int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return value
    try:
        return Decimal(str(value).strip())
    except ArithmeticError:
        return None


@pass_context
def _finalize(ctx: Context, value: Any) -> Any:
    """Dates and numbers that reach the text unformatted get the customer's locale and zone."""
    if isinstance(value, datetime):
        return _datetime(ctx, value)
    if isinstance(value, date):
        return format_date(value, "medium", locale=ctx["_locale"])
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return format_decimal(value, locale=ctx["_locale"])
    return value


_ENV = _environment()
