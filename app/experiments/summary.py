"""An experiment's report read per arm: the table the API returns and the dashboard shows.

`analysis.judge` answers by metric; a person reads by arm. Each arm's row holds its split,
its primary metric (conversion with its anytime-valid interval; for an arm other than
control the relative lift with its interval, p-value, chance to beat control, expected loss
and verdict) and its days to pay (Kaplan-Meier median and p90 with their intervals, the
log-rank p-value against control). The days-to-pay curves are summed up as the share still
unpaid at a few days from delivery. Plain dataclasses: nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from app.experiments.analysis import ExperimentReport, MetricResult, Status
from app.experiments.engine import Interval, Verdict
from app.experiments.srm import SrmCheck
from app.experiments.survival import CurvePoint, DaysQuantile

CURVE_DAYS = (0, 3, 7, 15, 30, 60, 90)  # the days a curve is summed up at


@dataclass(frozen=True)
class ArmFigures:
    arm: str
    version: str | None  # NAME@N; None for the hold-out
    holdout: bool
    control: bool
    expected_share: float
    customers: int
    bills: int
    amount_due: str
    amount_paid: str
    counted_bills: int  # bills whose deadline has passed: the primary metric counts these
    paid_in_time: int
    conversion: float | None
    interval: Interval
    lift: float | None  # relative: 0.05 is +5 % of control's conversion; None for control
    lift_interval: Interval
    p_value: float | None
    chance_to_beat_control: float | None
    expected_loss: float | None
    verdict: Verdict | None  # None for control
    paid_bills: int
    median_days: DaysQuantile
    p90_days: DaysQuantile
    log_rank_p: float | None


@dataclass(frozen=True)
class CurveSummary:
    arm: str
    points: list[CurvePoint]  # the share still unpaid at CURVE_DAYS the curve reaches


@dataclass(frozen=True)
class Summary:
    as_of: str
    status: Status
    winner: str | None
    srm: SrmCheck
    crossovers: int
    arms: list[ArmFigures]
    secondary: list[MetricResult]
    guardrail: MetricResult
    curves: list[CurveSummary]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def summarize(report: ExperimentReport, versions: Mapping[str, str | None]) -> Summary:
    """The report by arm; `versions` names each arm's version (NAME@N, None: the hold-out)."""
    rates = {r.arm: r for r in report.primary.arms}
    against = {c.arm: c for c in report.primary.comparisons}
    days = {d.arm: d for d in report.days_to_pay.arms}
    tests = {t.arm: t for t in report.days_to_pay.tests}
    none = Interval(None, None)
    rows = []
    for arm in report.arms:
        rate, vs, paid, test = (
            rates[arm.arm],
            against.get(arm.arm),
            days[arm.arm],
            tests.get(arm.arm),
        )
        rows.append(
            ArmFigures(
                arm=arm.arm,
                version=versions.get(arm.arm),
                holdout=arm.holdout,
                control=arm.arm == report.control,
                expected_share=arm.expected_share,
                customers=arm.customers,
                bills=arm.bills,
                amount_due=arm.amount_due,
                amount_paid=arm.amount_paid,
                counted_bills=rate.bills,
                paid_in_time=rate.count,
                conversion=rate.rate,
                interval=rate.interval,
                lift=vs.estimate if vs else None,
                lift_interval=vs.interval if vs else none,
                p_value=vs.p_value if vs else None,
                chance_to_beat_control=vs.chance_to_beat_control if vs else None,
                expected_loss=vs.expected_loss if vs else None,
                verdict=vs.verdict if vs else None,
                paid_bills=paid.paid,
                median_days=paid.median,
                p90_days=paid.p90,
                log_rank_p=test.p_value if test else None,
            )
        )
    curves = [
        CurveSummary(d.arm, [p for p in d.curve if p.day in CURVE_DAYS])
        for d in report.days_to_pay.arms
    ]
    return Summary(
        as_of=report.as_of,
        status=report.status,
        winner=report.winner,
        srm=report.split,
        crossovers=report.crossovers,
        arms=rows,
        secondary=report.secondary,
        guardrail=report.guardrail,
        curves=curves,
    )
