"""Records to a report: deadlines, maturity, customers as units, guardrail, status, JSON."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.experiments.analysis import judge
from app.experiments.arms import Arm, ExperimentInputError
from app.experiments.engine import Settings
from app.experiments.records import BillRecord, outcome

ROME = ZoneInfo("Europe/Rome")
ARMS = [Arm("v1"), Arm("v2"), Arm("plain", holdout=True)]
DELIVERED = datetime(2025, 5, 1, 9, tzinfo=ROME)


def bill(customer: str, arm: str, paid_after_days: float | None, **kw: object) -> BillRecord:
    fields: dict[str, object] = {
        "customer_id": customer,
        "arm": arm,
        "due_on": date(2025, 5, 11),
        "delivered_at": DELIVERED,
        "paid_at": None if paid_after_days is None else DELIVERED + timedelta(days=paid_after_days),
        "amount": Decimal("84.20"),
    }
    fields.update(kw)
    return BillRecord(**fields)  # type: ignore[arg-type]


def test_paid_in_time_is_by_the_customers_due_date_or_n_days_after_an_overdue_delivery() -> None:
    as_of = datetime(2025, 6, 1, tzinfo=UTC)
    # 23:30 on the due date in Rome is in time, though it is already the 12th nowhere else.
    last_minute = bill("c", "v1", None, paid_at=datetime(2025, 5, 11, 23, 30, tzinfo=ROME))
    assert outcome(last_minute, as_of, 7).in_time
    assert not outcome(bill("c", "v1", 10.7), as_of, 7).in_time  # 12 May, 01:48
    overdue = bill("c", "v1", 6.5, due_on=date(2025, 4, 20))
    assert outcome(overdue, as_of, 7).in_time and not outcome(overdue, as_of, 6).in_time
    # Before the deadline the outcome is not known, paid or not.
    early = datetime(2025, 5, 5, tzinfo=UTC)
    assert not outcome(bill("c", "v1", 1.0), early, 7).matured
    assert outcome(bill("c", "v1", None), as_of, 7).days == pytest.approx(
        31 - 7 / 24
    )  # censored: 07:00 UTC to midnight


def _many(arm: str, customers: int, paid: int, prefix: str, **kw: object) -> list[BillRecord]:
    return [bill(f"{prefix}{i}", arm, 3.0 if i < paid else None, **kw) for i in range(customers)]


def test_a_report_counts_customers_judges_arms_and_is_plain_json() -> None:
    records = (
        _many("v1", 300, 180, "a", opened=True, complained=False)
        + _many("v2", 300, 240, "b", opened=True, complained=False)
        + _many("plain", 300, 170, "c", complained=False)
        # A second bill for the first v1 customer: still one customer.
        + [
            bill(
                "a0",
                "v1",
                2.0,
                delivered_at=DELIVERED + timedelta(days=30),
                due_on=date(2025, 6, 10),
            )
        ]
        # Delivered after the look: not counted anywhere.
        + [bill("late", "v2", None, delivered_at=datetime(2025, 7, 1, tzinfo=UTC))]
    )
    report = judge("exp", ARMS, records, datetime(2025, 6, 20, tzinfo=UTC))
    json.dumps(dataclasses.asdict(report), allow_nan=False)  # plain JSON, no nan or Decimal
    v1, v2, plain = report.primary.arms
    assert (v1.customers, v1.bills, v1.count) == (300, 301, 181)
    assert v2.rate == pytest.approx(0.8) and plain.rate == pytest.approx(170 / 300)
    assert report.arms[0].amount_due == str(Decimal("84.20") * 301)
    assert report.arms[1].customers == 300  # the late bill is not there
    lift_v2, lift_plain = report.primary.comparisons
    assert (lift_v2.arm, lift_v2.verdict) == ("v2", "better")
    assert lift_plain.verdict == "inconclusive"
    assert (report.status, report.winner) == ("winner", "v2")
    opened = report.secondary[0]
    assert opened.metric == "opened" and opened.comparisons[1].verdict == "not_enough_data"
    assert report.days_to_pay.arms[1].median.days == pytest.approx(3.0)


def test_more_complaints_breach_the_guardrail_whatever_the_payments_say() -> None:
    records = (
        _many("v1", 2000, 1200, "a", complained=False)
        + _many("v2", 2000, 1500, "b", complained=False)
        + _many("plain", 2000, 1200, "c", complained=False)
    )
    records = [
        dataclasses.replace(r, complained=True)
        if r.arm == "v2" and int(r.customer_id[1:]) % 20 == 0
        else r
        for r in records
    ]
    report = judge("exp", ARMS, records, datetime(2025, 6, 20, tzinfo=UTC))
    assert report.primary.comparisons[0].verdict == "better"
    assert report.guardrail.comparisons[0].verdict == "worse"
    assert report.guardrail.difference == "absolute" and report.guardrail.lower_is_better
    assert (report.status, report.winner) == ("guardrail_breached", None)


def test_a_customer_in_two_arms_breaks_the_split() -> None:
    records = _many("v1", 100, 50, "a") + _many("v2", 100, 50, "b") + _many("plain", 100, 50, "c")
    records.append(bill("a1", "v2", None))
    report = judge("exp", ARMS, records, datetime(2025, 6, 20, tzinfo=UTC))
    assert report.crossovers == 1 and report.status == "split_broken"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"arm": "v9"}, "records/0/arm"),
        ({"delivered_at": datetime(2025, 5, 1, 9)}, "records/0/delivered_at"),
        ({"paid_at": "2025-05-02"}, "records/0/paid_at"),
        ({"amount": 84.2}, "records/0/amount"),
        ({"amount": Decimal("-1")}, "records/0/amount"),
        ({"due_on": datetime(2025, 5, 11, tzinfo=UTC)}, "records/0/due_on"),
        ({"complained": "no"}, "records/0/complained"),
        ({"customer_id": ""}, "records/0/customer_id"),
    ],
)
def test_a_bad_record_is_refused_by_name(change: dict[str, object], field: str) -> None:
    with pytest.raises(ExperimentInputError) as raised:
        judge("exp", ARMS, [dataclasses.replace(bill("a", "v1", 1.0), **change)],
              datetime(2025, 6, 1, tzinfo=UTC))  # fmt: skip
    assert raised.value.field == field


def test_a_naive_look_and_a_holdout_control_are_refused() -> None:
    with pytest.raises(ExperimentInputError, match="as_of"):
        judge("exp", ARMS, [], datetime(2025, 6, 1))
    with pytest.raises(ExperimentInputError, match="control"):
        judge("exp", ARMS, [], datetime(2025, 6, 1, tzinfo=UTC), control="plain")
    empty = judge("exp", ARMS, [], datetime(2025, 6, 1, tzinfo=UTC), settings=Settings())
    assert empty.status == "keep_going" and empty.primary.arms[0].rate is None
