"""SQL the two dialects spell differently: a date's day number, an amount in minor units.

Days are counted as UTC calendar days since 1970-01-01, so "days between" is a subtraction
of integers that both SQLite and PostgreSQL do exactly, and rows group by whole days.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, cast, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

UNIX_EPOCH_JULIAN_DAY = 2440587.5  # julianday('1970-01-01')


class date_day(FunctionElement[int]):
    """The day number of an ISO date text, `YYYY-MM-DD` (a bill's `due_on`)."""

    type = Integer()
    inherit_cache = True
    name = "date_day"


class utc_day(FunctionElement[int]):
    """The day number of a timestamp's UTC date (a payment's `paid_at`)."""

    type = Integer()
    inherit_cache = True
    name = "utc_day"


def _arg(element: FunctionElement[int], compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(date_day, "sqlite")
@compiles(utc_day, "sqlite")
def _sqlite_day(element: FunctionElement[int], compiler: Any, **kw: Any) -> str:
    # SQLite keeps timestamps as UTC text; date() cuts either kind of text to its day.
    arg = _arg(element, compiler, **kw)
    return f"CAST(julianday(date({arg})) - {UNIX_EPOCH_JULIAN_DAY} AS INTEGER)"


@compiles(date_day, "postgresql")
def _pg_date_day(element: FunctionElement[int], compiler: Any, **kw: Any) -> str:
    return f"(CAST({_arg(element, compiler, **kw)} AS DATE) - DATE '1970-01-01')"


@compiles(utc_day, "postgresql")
def _pg_utc_day(element: FunctionElement[int], compiler: Any, **kw: Any) -> str:
    # A bare cast to DATE would take the session's time zone; the day is UTC's.
    arg = _arg(element, compiler, **kw)
    return f"(CAST(({arg} AT TIME ZONE 'UTC') AS DATE) - DATE '1970-01-01')"


def minor_units(amount_text: ColumnElement[Any]) -> ColumnElement[int]:
    """A stored amount ("84.20") in minor units (8420): intake writes every amount with
    exactly its currency's minor digits (`app.intake.parse`), so the point can just go."""
    return cast(func.replace(amount_text, ".", ""), BigInteger)
