"""The plain per-bill record an experiment is judged from, and what it means at a look.

A query layer (bills, renders, events, payments) hands these in; nothing here reads the
database, so the same records can come from the service, a CSV or a simulation.

Local dates are the customer's: a record's datetimes are read in `delivered_at`'s zone,
which the query layer gives in the customer's time zone. A bill counts for "paid in time"
only once its deadline has passed: the end of its due date, or `overdue_window_days` after
delivery when it was delivered already overdue. Before that its outcome is not known, and
counting it either way (a miss that may yet pay, or an early payer without the late ones
beside it) would bias the rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app.experiments.arms import ExperimentInputError

DEFAULT_OVERDUE_WINDOW_DAYS = 7  # "within N days of delivery" for bills delivered overdue
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class BillRecord:
    """One bill of an experiment, as the billing system and the microsite saw it."""

    customer_id: str
    arm: str
    due_on: date
    delivered_at: datetime  # timezone-aware, in the customer's zone
    paid_at: datetime | None  # timezone-aware; None: not paid
    amount: Decimal
    opened: bool = False
    watched75: bool = False
    pay_click: bool = False
    complained: bool | None = None  # None: the billing system does not report complaints


@dataclass(frozen=True)
class Outcome:
    """One delivered bill at a look (`as_of`)."""

    paid: bool  # paid by the look
    matured: bool  # its deadline has passed: its paid-in-time outcome is known
    in_time: bool  # paid before its deadline
    days: float  # days from delivery to payment, or to the look if unpaid (censored)


def _aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ExperimentInputError(field, "must be a timezone-aware datetime")
    return value


def check_records(records: Sequence[BillRecord], arm_names: set[str]) -> None:
    """Refuse a record that cannot be read, naming it: `records/12/paid_at`."""
    for i, r in enumerate(records):
        at = f"records/{i}"
        if not isinstance(r, BillRecord):
            raise ExperimentInputError(at, "must be a BillRecord")
        if not isinstance(r.customer_id, str) or not r.customer_id:
            raise ExperimentInputError(f"{at}/customer_id", "must be a non-empty string")
        if r.arm not in arm_names:
            raise ExperimentInputError(f"{at}/arm", "is not one of the experiment's arms")
        if not isinstance(r.due_on, date) or isinstance(r.due_on, datetime):
            raise ExperimentInputError(f"{at}/due_on", "must be a date")
        _aware(r.delivered_at, f"{at}/delivered_at")
        if r.paid_at is not None:
            _aware(r.paid_at, f"{at}/paid_at")
        if not isinstance(r.amount, Decimal) or not r.amount.is_finite() or r.amount < 0:
            raise ExperimentInputError(f"{at}/amount", "must be a finite Decimal >= 0")
        for name in ("opened", "watched75", "pay_click"):
            if not isinstance(getattr(r, name), bool):
                raise ExperimentInputError(f"{at}/{name}", "must be true or false")
        if r.complained is not None and not isinstance(r.complained, bool):
            raise ExperimentInputError(f"{at}/complained", "must be true, false or None")


def deadline(record: BillRecord, overdue_window_days: int) -> datetime:
    """When the bill stops counting as paid in time."""
    zone = record.delivered_at.tzinfo
    if record.delivered_at.date() > record.due_on:
        return record.delivered_at + timedelta(days=overdue_window_days)
    return datetime.combine(record.due_on + timedelta(days=1), time(0), tzinfo=zone)


def outcome(record: BillRecord, as_of: datetime, overdue_window_days: int) -> Outcome:
    """What the bill tells at `as_of` (a delivered bill: `delivered_at <= as_of`)."""
    paid = record.paid_at is not None and record.paid_at <= as_of
    ends = deadline(record, overdue_window_days)
    in_time = paid and record.paid_at is not None and record.paid_at < ends
    until = record.paid_at if paid and record.paid_at is not None else as_of
    days = max((until - record.delivered_at).total_seconds() / SECONDS_PER_DAY, 0.0)
    return Outcome(paid=paid, matured=ends <= as_of, in_time=in_time, days=days)
