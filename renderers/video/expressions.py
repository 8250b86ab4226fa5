"""Sandboxed expressions and text templates of a scene spec (Jinja2, no Python eval).

`when:` conditions and `value:` fields are Jinja expressions; `text:` fields are Jinja
templates. They run in an ImmutableSandboxedEnvironment with StrictUndefined over a read-only
context, so a template can read the bill but neither change it nor reach Python internals.
Locale filters: money, date, number, percent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jinja2
from babel.numbers import format_percent, get_plus_sign_symbol
from jinja2.sandbox import ImmutableSandboxedEnvironment

from renderers.formatting import format_date, format_money, format_number


@jinja2.pass_context
def _money(ctx: jinja2.runtime.Context, value: Any, currency: str | None = None) -> str:
    return format_money(Decimal(str(value)), currency or ctx["currency"], ctx["locale"])


@jinja2.pass_context
def _date(ctx: jinja2.runtime.Context, value: Any, fmt: str = "long") -> str:
    return format_date(str(value), ctx["locale"], fmt)


@jinja2.pass_context
def _number(ctx: jinja2.runtime.Context, value: Any, digits: int = 0) -> str:
    return format_number(Decimal(str(value)), ctx["locale"], decimals=digits)


@jinja2.pass_context
def _percent(ctx: jinja2.runtime.Context, value: Any, signed: bool = False) -> str:
    """0.38 -> "38%"; `signed`: a rise shows its plus sign too ("+38%")."""
    text = str(format_percent(float(value), locale=ctx["locale"]))
    if signed and float(value) > 0:
        text = get_plus_sign_symbol(ctx["locale"]) + text
    return text


def environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters.update(money=_money, date=_date, number=_number, percent=_percent)
    return env


ENV = environment()


@lru_cache(maxsize=1024)
def compile_expression(source: str) -> Callable[..., Any]:
    """A compiled expression; jinja2.TemplateSyntaxError if it does not parse."""
    return ENV.compile_expression(source, undefined_to_none=False)


@lru_cache(maxsize=1024)
def compile_template(source: str) -> jinja2.Template:
    return ENV.from_string(source)


def evaluate(source: str, context: Mapping[str, Any]) -> Any:
    return compile_expression(source)(**context)


def render_text(source: str, context: Mapping[str, Any]) -> str:
    return compile_template(source).render(**context).strip()


def check(source: str, *, template: bool) -> str | None:
    """None if `source` compiles, else the syntax error's message."""
    try:
        compile_template(source) if template else compile_expression(source)
    except jinja2.TemplateSyntaxError as exc:
        return f"syntax error: {exc.message}"
    return None
