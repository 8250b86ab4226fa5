"""The three grouped queries figures are made of; every one aggregates in the database.

Rows come back per (run, group, currency, hold-out) and, for days to pay, per whole day
and paid-or-not, so a million bills come back as a few hundred rows. Everything in them adds
up, so the Python side can merge runs and the hold-out without going back to the bills.

A bill is a render of purpose `bill` that is no journey step's render (a step's render is a
copy of its bill), was not cancelled, asks for money (`open` or `overdue`, total above 0)
and still has its bill document (retention empties it). It is paid at its first payment
reported for it or for any of its steps' renders, up to the moment the figures are as of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from app.collection.dimensions import Dimension, bill_amount, bill_text, step_key
from app.collection.sql import date_day, utc_day
from app.infra.database import (
    BillJourney,
    Journey,
    JourneyStep,
    JourneyVersion,
    Payment,
    Render,
)

PAID_WITHIN_DAYS = (7, 15, 30)  # days after the due date


@dataclass(frozen=True)
class Scope:
    """Whose bills, which runs (None: every bill of the account), as of when."""

    account: str
    batches: Sequence[str] | None
    as_of: datetime
    holdout: ColumnElement[bool] | None = None  # marks a hold-out bill's render

    @property
    def as_of_day(self) -> int:
        return (self.as_of.date() - datetime(1970, 1, 1).date()).days


Key = tuple[str | None, Any, str, bool]  # run, group, currency, hold-out


@dataclass(frozen=True)
class BillCounts:
    key: Key
    bills: int
    amount_due: int
    paid: int
    due_passed: int  # bills whose due date is over: "paid by the due date" is known
    paid_by_due: int
    within: dict[int, tuple[int, int]]  # days -> (bills that far past due, paid by then)
    recovered: int  # amount of bills paid after their due date
    latest_issued_day: int


@dataclass(frozen=True)
class Durations:
    key: Key
    days: int  # issue date to payment, or to the as-of day when unpaid
    paid: bool
    bills: int
    amount: int


@dataclass(frozen=True)
class Cure:
    key: Key
    step: str  # JOURNEY#POSITION
    overdue: int  # bills overdue and unpaid when the step went out
    next_passed: int  # of them, those whose next step's time has come (none after the last)
    cured_before_next: int
    within_passed: int  # those sent at least `cure_days` ago
    cured_within: int


def _paid_at(scope: Scope) -> Any:
    """Each bill's first payment, its own render's or any of its steps' renders'."""
    bill_id = func.coalesce(BillJourney.render_id, Payment.render_id)
    paid_render = aliased(Render)
    return (
        select(bill_id.label("bill_id"), func.min(Payment.paid_at).label("paid_at"))
        .join(paid_render, paid_render.id == Payment.render_id)
        .outerjoin(JourneyStep, JourneyStep.render_id == Payment.render_id)
        .outerjoin(BillJourney, BillJourney.id == JourneyStep.bill_journey_id)
        .where(paid_render.api_key_id == scope.account, Payment.paid_at <= scope.as_of)
        .group_by(bill_id)
        .subquery("first_paid")
    )


def _with_steps(query: Select[Any], scope: Scope) -> Select[Any]:
    """Join the bill's steps that went out by the as-of moment, with their journey."""
    step = JourneyStep
    went_out = and_(step.status == "sent", step.finished_at <= scope.as_of)
    return (
        query.join(BillJourney, BillJourney.render_id == Render.id)
        .join(step, and_(step.bill_journey_id == BillJourney.id, went_out))
        .join(JourneyVersion, JourneyVersion.id == BillJourney.journey_version_id)
        .join(Journey, Journey.id == JourneyVersion.journey_id)
    )


def bills(scope: Scope, dimension: Dimension | None) -> Any:
    """One row per bill (per bill and step, for the step dimension), with its days."""
    paid = _paid_at(scope)
    holdout = scope.holdout if scope.holdout is not None else false()
    group = dimension.expression if dimension is not None else literal(None)
    copies = aliased(JourneyStep)  # a step's render is a copy of its bill, not a bill
    query = (
        select(
            Render.id.label("bill_id"),
            Render.batch_id.label("run"),
            group.label("grp"),
            bill_text("bill", "currency").label("currency"),
            bill_amount().label("amount"),
            date_day(bill_text("bill", "issued_on")).label("issued_day"),
            date_day(bill_text("bill", "due_on")).label("due_day"),
            paid.c.paid_at.label("paid_at"),
            utc_day(paid.c.paid_at).label("paid_day"),
            case((holdout, True), else_=False).label("holdout"),
        )
        .outerjoin(paid, paid.c.bill_id == Render.id)
        .where(
            Render.api_key_id == scope.account,
            Render.purpose == "bill",
            Render.status != "cancelled",
            ~exists().where(copies.render_id == Render.id).correlate(Render),
            bill_text("bill", "status").in_(("open", "overdue")),
            bill_text("bill", "due_on").is_not(None),
            bill_amount() > 0,
        )
    )
    if scope.batches is not None:
        query = query.where(Render.batch_id.in_(list(scope.batches)))
    if dimension is not None and dimension.steps:
        query = _with_steps(query, scope)
    return query.subquery("bill")


def _keys(b: Any) -> list[Any]:
    return [b.c.run, b.c.grp, b.c.currency, b.c.holdout]


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def bill_counts(session: Session, scope: Scope, dimension: Dimension) -> list[BillCounts]:
    b = bills(scope, dimension)
    today = scope.as_of_day

    def paid_by(day: ColumnElement[int]) -> ColumnElement[bool]:
        return and_(b.c.paid_day.is_not(None), b.c.paid_day <= day)

    columns = [
        func.count(),
        func.sum(b.c.amount),
        _count(b.c.paid_day.is_not(None)),
        _count(b.c.due_day < today),
        _count(and_(b.c.due_day < today, paid_by(b.c.due_day))),
        *(
            part
            for days in PAID_WITHIN_DAYS
            for part in (
                _count(b.c.due_day + days < today),
                _count(and_(b.c.due_day + days < today, paid_by(b.c.due_day + days))),
            )
        ),
        func.sum(case((b.c.paid_day > b.c.due_day, b.c.amount), else_=0)),
        func.max(b.c.issued_day),
    ]
    rows = session.execute(select(*_keys(b), *columns).group_by(*_keys(b)))
    found = []
    for row in rows:
        key: Key = (row[0], row[1], row[2], bool(row[3]))
        n, amount, paid, due_passed, by_due, *rest = (int(v or 0) for v in row[4:])
        pairs = rest[: 2 * len(PAID_WITHIN_DAYS)]
        recovered, latest = rest[-2:]
        within = {d: (pairs[2 * i], pairs[2 * i + 1]) for i, d in enumerate(PAID_WITHIN_DAYS)}
        found.append(
            BillCounts(key, n, amount, paid, due_passed, by_due, within, recovered, latest)
        )
    return found


def durations(session: Session, scope: Scope, dimension: Dimension) -> list[Durations]:
    """Bills by whole days from issue to payment (or to the as-of day: censored)."""
    b = bills(scope, dimension)
    out = func.coalesce(b.c.paid_day, scope.as_of_day) - b.c.issued_day
    # Grouped by columns of a subquery: PostgreSQL groups by what it can see is the same.
    each = select(
        *_keys(b),
        case((out < 0, 0), else_=out).label("days"),  # paid before it was issued: at once
        case((b.c.paid_day.is_not(None), True), else_=False).label("paid"),
        b.c.amount,
    ).subquery("days")
    keys = [*_keys(each), each.c.days, each.c.paid]
    grouped = select(*keys, func.count(), func.sum(each.c.amount)).group_by(*keys)
    return [
        Durations((r[0], r[1], r[2], bool(r[3])), int(r[4]), bool(r[5]), int(r[6]), int(r[7]))
        for r in session.execute(grouped)
    ]


def cures(session: Session, scope: Scope, dimension: Dimension, cure_days: int) -> list[Cure]:
    """Per step that went out, the bills it found overdue and unpaid, and those it cured."""
    b = bills(scope, None if dimension.steps else dimension)
    sent = JourneyStep
    following = aliased(JourneyStep)
    sent_day = utc_day(sent.finished_at)
    next_passed = following.due_at <= scope.as_of  # NULL, never true, after the last step
    within_passed = sent_day + cure_days < scope.as_of_day
    paid_after = and_(b.c.paid_at.is_not(None), b.c.paid_at >= sent.finished_at)
    each = (
        select(
            b.c.run,
            (step_key() if dimension.steps else b.c.grp).label("grp"),
            b.c.currency,
            b.c.holdout,
            step_key().label("step"),
            case((next_passed, 1), else_=0).label("next_passed"),
            case((and_(next_passed, paid_after, b.c.paid_at < following.due_at), 1), else_=0).label(
                "cured_next"
            ),
            case((within_passed, 1), else_=0).label("within_passed"),
            case(
                (and_(within_passed, paid_after, b.c.paid_day <= sent_day + cure_days), 1), else_=0
            ).label("cured_within"),
        )
        .select_from(b)
        .join(BillJourney, BillJourney.render_id == b.c.bill_id)
        .join(sent, and_(sent.bill_journey_id == BillJourney.id, sent.status == "sent"))
        .join(JourneyVersion, JourneyVersion.id == BillJourney.journey_version_id)
        .join(Journey, Journey.id == JourneyVersion.journey_id)
        .outerjoin(
            following,
            and_(
                following.bill_journey_id == sent.bill_journey_id,
                following.position == sent.position + 1,
            ),
        )
        .where(
            sent.finished_at <= scope.as_of,
            sent_day > b.c.due_day,  # overdue when it went out ...
            or_(b.c.paid_at.is_(None), b.c.paid_at > sent.finished_at),  # ... and unpaid
        )
        .subquery("cure")
    )
    keys = [each.c.run, each.c.grp, each.c.currency, each.c.holdout, each.c.step]
    counts = [
        func.sum(each.c[name])
        for name in ("next_passed", "cured_next", "within_passed", "cured_within")
    ]
    query = select(*keys, func.count(), *counts).group_by(*keys)
    return [
        Cure((r[0], r[1], r[2], bool(r[3])), r[4], *(int(v or 0) for v in r[5:]))
        for r in session.execute(query)
    ]
