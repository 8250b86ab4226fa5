"""An experiment's report at one look: per-bill records in, JSON-able figures out.

Every arm is judged against control on
  * the primary metric, paid in time (by the due date, or within N days of delivery for a
    bill delivered overdue), as a relative lift;
  * secondary metrics, opened, watched 75 % and pay click, with the same engine;
  * the guardrail, complaints and opt-outs where the billing system reports them, as an
    absolute difference (they are rare, and control may have none) where higher is worse;
  * days to pay, as Kaplan-Meier curves and a log-rank test (`survival`);
after the split itself is checked (`srm`). The unit is the customer, as assigned: a metric is
a ratio of sums over customers (`engine`). `dataclasses.asdict(report)` is plain JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

import numpy as np

from app.experiments.arms import Arm, ExperimentInputError, check_arms, control_arm, shares
from app.experiments.engine import (
    Comparison,
    Difference,
    Interval,
    Settings,
    Sums,
    arm_interval,
    compare,
    finite,
)
from app.experiments.records import (
    DEFAULT_OVERDUE_WINDOW_DAYS,
    BillRecord,
    Outcome,
    check_records,
    outcome,
)
from app.experiments.srm import SrmCheck, check_split
from app.experiments.survival import DaysToPay, days_to_pay

Status = Literal["split_broken", "guardrail_breached", "winner", "control_wins", "keep_going"]
PRIMARY = "paid_in_time"
SECONDARY = ("opened", "watched75", "pay_click")
GUARDRAIL = "complained"


@dataclass(frozen=True)
class ArmSummary:
    arm: str
    holdout: bool
    expected_share: float
    customers: int
    bills: int
    amount_due: str  # decimal strings: money is never a float
    amount_paid: str


@dataclass(frozen=True)
class ArmRate:
    """An arm's share of bills on one metric, with its anytime-valid interval."""

    arm: str
    customers: int  # customers with a bill that counts for this metric
    bills: int
    count: int
    rate: float | None
    interval: Interval


@dataclass(frozen=True)
class MetricResult:
    metric: str
    lower_is_better: bool
    difference: Difference
    arms: list[ArmRate]
    comparisons: list[Comparison]


@dataclass(frozen=True)
class ExperimentReport:
    experiment_id: str
    as_of: str
    control: str
    settings: dict[str, object]
    arms: list[ArmSummary]
    split: SrmCheck
    crossovers: int  # customers found in more than one arm: a broken assignment
    primary: MetricResult
    secondary: list[MetricResult]
    guardrail: MetricResult
    days_to_pay: DaysToPay
    status: Status
    winner: str | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class _Unit:
    """One customer in one arm: per-metric (count, bills) and their first bill's days to pay."""

    counts: dict[str, list[int]]
    first_delivered: datetime
    first_days: float
    first_paid: bool


def _sums(units: Sequence[_Unit], metric: str) -> Sums:
    pairs = np.array([u.counts[metric] for u in units], dtype=np.float64).reshape(-1, 2)
    pairs = pairs[pairs[:, 1] > 0]  # a customer with no bill that counts yet is not a unit yet
    m, d = pairs[:, 0], pairs[:, 1]
    return Sums(
        n=float(len(pairs)),
        m=float(m.sum()),
        m2=float((m**2).sum()),
        d=float(d.sum()),
        d2=float((d**2).sum()),
        md=float((m * d).sum()),
    )


def _metric(
    metric: str,
    arms: Sequence[Arm],
    control: str,
    sums: dict[str, Sums],
    settings: Settings,
    kind: Difference,
    lower_is_better: bool,
) -> MetricResult:
    total_units = sum(float(s.n) for s in sums.values())
    rates = []
    for arm in arms:
        s = sums[arm.name]
        interval = Interval(None, None)
        if float(s.n) > 1:
            low, high = arm_interval(s, settings, total_units)
            interval = Interval(finite(low), finite(high))
        rates.append(
            ArmRate(
                arm=arm.name,
                customers=int(s.n),
                bills=int(s.d),
                count=int(s.m),
                rate=finite(float(s.m) / float(s.d)) if float(s.d) else None,
                interval=interval,
            )
        )
    comparisons = [
        compare(arm.name, control, sums[control], sums[arm.name], settings, kind, lower_is_better)
        for arm in arms
        if arm.name != control
    ]
    return MetricResult(metric, lower_is_better, kind, rates, comparisons)


def _status(
    split_broken: bool, guardrail: MetricResult, primary: MetricResult, arms: Sequence[Arm]
) -> tuple[Status, str | None]:
    if split_broken:
        return "split_broken", None
    if any(c.verdict == "worse" for c in guardrail.comparisons):
        return "guardrail_breached", None
    versions = {a.name for a in arms if not a.holdout}
    judged = [c for c in primary.comparisons if c.arm in versions]
    better = [c for c in judged if c.verdict == "better" and c.estimate is not None]
    if better:
        return "winner", max(better, key=lambda c: c.estimate or 0.0).arm
    if judged and all(c.verdict == "worse" for c in judged):
        return "control_wins", primary.comparisons[0].control
    return "keep_going", None


def judge(
    experiment_id: str,
    arms: Sequence[Arm],
    records: Sequence[BillRecord],
    as_of: datetime,
    *,
    control: str | None = None,
    settings: Settings | None = None,
    overdue_window_days: int = DEFAULT_OVERDUE_WINDOW_DAYS,
) -> ExperimentReport:
    """The experiment as the records stand at `as_of` (bills delivered later are left out)."""
    settings = settings or Settings()
    check_arms(arms)
    control_name = control_arm(arms, control).name
    if not isinstance(as_of, datetime) or as_of.utcoffset() is None:
        raise ExperimentInputError("as_of", "must be a timezone-aware datetime")
    if not isinstance(overdue_window_days, int) or overdue_window_days < 1:
        raise ExperimentInputError("overdue_window_days", "must be a whole number of days >= 1")
    check_records(records, {a.name for a in arms})

    units: dict[tuple[str, str], _Unit] = {}
    amount_due = {a.name: Decimal(0) for a in arms}
    amount_paid = {a.name: Decimal(0) for a in arms}
    bills = dict.fromkeys(amount_due, 0)
    metrics = (PRIMARY, *SECONDARY, GUARDRAIL)
    flags: dict[str, Callable[[BillRecord, Outcome], tuple[bool, bool]]] = {
        # metric: (counts as a success, counts at all)
        PRIMARY: lambda r, o: (o.in_time, o.matured),
        "opened": lambda r, o: (r.opened, True),
        "watched75": lambda r, o: (r.watched75, True),
        "pay_click": lambda r, o: (r.pay_click, True),
        GUARDRAIL: lambda r, o: (bool(r.complained), r.complained is not None),
    }
    for r in records:
        if r.delivered_at > as_of:
            continue
        o = outcome(r, as_of, overdue_window_days)
        unit = units.get((r.arm, r.customer_id))
        if unit is None:
            unit = units[(r.arm, r.customer_id)] = _Unit(
                {m: [0, 0] for m in metrics}, r.delivered_at, o.days, o.paid
            )
        elif r.delivered_at < unit.first_delivered:
            unit.first_delivered, unit.first_days, unit.first_paid = r.delivered_at, o.days, o.paid
        for metric, flag in flags.items():
            success, counts = flag(r, o)
            if counts:
                unit.counts[metric][0] += int(success)
                unit.counts[metric][1] += 1
        bills[r.arm] += 1
        amount_due[r.arm] += r.amount
        if o.paid:
            amount_paid[r.arm] += r.amount

    by_arm: dict[str, list[_Unit]] = {a.name: [] for a in arms}
    for (arm_name, _), unit in units.items():
        by_arm[arm_name].append(unit)
    arm_customers = {name: {c for (a, c) in units if a == name} for name in by_arm}
    seen: dict[str, int] = {}
    for customers in arm_customers.values():
        for c in customers:
            seen[c] = seen.get(c, 0) + 1
    crossovers = sum(1 for n in seen.values() if n > 1)

    expected = shares(arms)
    split = check_split([len(by_arm[a.name]) for a in arms], expected)

    def result(metric: str, kind: Difference, lower_is_better: bool) -> MetricResult:
        sums = {name: _sums(us, metric) for name, us in by_arm.items()}
        return _metric(metric, arms, control_name, sums, settings, kind, lower_is_better)

    primary = result(PRIMARY, "relative", False)
    secondary = [result(m, "relative", False) for m in SECONDARY]
    guardrail = result(GUARDRAIL, "absolute", True)
    durations = {
        name: (
            np.array([u.first_days for u in us], dtype=np.float64),
            np.array([u.first_paid for u in us], dtype=np.float64),
        )
        for name, us in by_arm.items()
    }
    survival = days_to_pay([a.name for a in arms], control_name, durations, settings.alpha)
    status, winner = _status(split.flagged or crossovers > 0, guardrail, primary, arms)
    return ExperimentReport(
        experiment_id=experiment_id,
        as_of=as_of.isoformat(),
        control=control_name,
        settings={
            "alpha": settings.alpha,
            "tuning": settings.tuning,
            "prior": None if settings.prior is None else asdict(settings.prior),
            "min_units": settings.min_units,
            "overdue_window_days": overdue_window_days,
        },
        arms=[
            ArmSummary(
                arm=a.name,
                holdout=a.holdout,
                expected_share=share,
                customers=len(by_arm[a.name]),
                bills=bills[a.name],
                amount_due=str(amount_due[a.name]),
                amount_paid=str(amount_paid[a.name]),
            )
            for a, share in zip(arms, expected, strict=True)
        ],
        split=split,
        crossovers=crossovers,
        primary=primary,
        secondary=secondary,
        guardrail=guardrail,
        days_to_pay=survival,
        status=status,
        winner=winner,
    )
