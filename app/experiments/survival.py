"""Days to pay as censored survival: Kaplan-Meier curves per arm and log-rank tests (lifelines).

A bill that has not been paid has not paid *yet*: its days to pay are at least the days it
has been out. A mean over the bills that happened to pay drops exactly the slow payers, and
an arm that makes slow payers pay at last would look slower for it. So each arm's share
still unpaid after t days is the Kaplan-Meier estimate, with lifelines' pointwise interval
(exponential Greenwood); the median and p90 days to pay are where that curve crosses 50 % and
10 % unpaid, their intervals where the interval's bands cross (Brookmeyer-Crowley), and None
where the curve has not come down that far yet (the honest answer while many are unpaid).
Each arm is compared with control by a log-rank test: a fixed-horizon test, read once at the
end of an experiment, not a stopping rule (the primary metric is that).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from lifelines.utils import qth_survival_time, qth_survival_times

from app.experiments.arms import ExperimentInputError
from app.experiments.engine import DEFAULT_ALPHA, FloatArray, finite

MAX_CURVE_DAYS = 180  # the charted curve stops here; the estimates use every day observed


@dataclass(frozen=True)
class DaysQuantile:
    """Days by which a share of the bills was paid, with its interval; None: not reached yet."""

    days: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class CurvePoint:
    """The share of bills still unpaid after `day` days, with its pointwise interval."""

    day: int
    unpaid: float
    low: float
    high: float


@dataclass(frozen=True)
class ArmDaysToPay:
    arm: str
    bills: int
    paid: int
    median: DaysQuantile
    p90: DaysQuantile
    curve: list[CurvePoint]


@dataclass(frozen=True)
class LogRank:
    """Are the arm's days to pay distributed as control's? (log-rank, fixed horizon)"""

    arm: str
    control: str
    statistic: float | None
    p_value: float | None
    different: bool


@dataclass(frozen=True)
class DaysToPay:
    arms: list[ArmDaysToPay]
    tests: list[LogRank]


def _quantile(fitter: KaplanMeierFitter, unpaid_share: float) -> DaysQuantile:
    days = qth_survival_time(unpaid_share, fitter.survival_function_)
    bands = qth_survival_times(unpaid_share, fitter.confidence_interval_survival_function_)
    # The lower band of "unpaid" comes down first: it gives the early end of the interval.
    low, high = (float(v) for v in np.asarray(bands, dtype=np.float64).ravel()[:2])
    return DaysQuantile(finite(days), finite(low), finite(high))


def _curve(fitter: KaplanMeierFitter, horizon: float) -> list[CurvePoint]:
    last = int(min(math.ceil(horizon), MAX_CURVE_DAYS))
    grid = np.arange(last + 1, dtype=np.float64)
    timeline = fitter.survival_function_.index.to_numpy(dtype=np.float64)
    at = np.searchsorted(timeline, grid, side="right") - 1  # the step in force on each day
    unpaid = fitter.survival_function_.to_numpy(dtype=np.float64)[:, 0]
    bands = fitter.confidence_interval_survival_function_.to_numpy(dtype=np.float64)
    return [
        CurvePoint(int(day), float(unpaid[i]), float(bands[i, 0]), float(bands[i, 1]))
        for day, i in zip(grid, np.maximum(at, 0), strict=True)
    ]


def _fit(days: FloatArray, paid: FloatArray, alpha: float) -> KaplanMeierFitter:
    with warnings.catch_warnings():
        # lifelines warns that quantiles are read off the estimated steps: that is intended.
        warnings.simplefilter("ignore")
        return KaplanMeierFitter(alpha=alpha).fit(days, event_observed=paid)


def days_to_pay(
    arms: Sequence[str],
    control: str,
    durations: Mapping[str, tuple[FloatArray, FloatArray]],
    alpha: float = DEFAULT_ALPHA,
) -> DaysToPay:
    """Each arm's curve and quantiles, and a log-rank test of each arm against control.

    `durations[arm]` is (days, paid): days from delivery to payment for a paid bill, to the
    look for an unpaid one (censored); days are >= 0.
    """
    if control not in arms:
        raise ExperimentInputError("control", f"{control!r} is not one of the arms")
    fitted: dict[str, KaplanMeierFitter] = {}
    results: list[ArmDaysToPay] = []
    nothing = DaysQuantile(None, None, None)
    empty = np.zeros(0)
    for arm in arms:
        days, paid = (np.asarray(a, dtype=np.float64) for a in durations.get(arm, (empty, empty)))
        if days.shape != paid.shape or (days.size and (days < 0).any()):
            raise ExperimentInputError(f"durations/{arm}", "days must be >= 0, one per bill")
        if days.size == 0:
            results.append(ArmDaysToPay(arm, 0, 0, nothing, nothing, []))
            continue
        fitter = fitted[arm] = _fit(days, paid, alpha)
        results.append(
            ArmDaysToPay(
                arm=arm,
                bills=int(days.size),
                paid=int(paid.sum()),
                median=_quantile(fitter, 0.5),
                p90=_quantile(fitter, 0.1),
                curve=_curve(fitter, float(days.max())),
            )
        )
    tests = []
    for arm in arms:
        if arm == control:
            continue
        if arm not in fitted or control not in fitted:
            tests.append(LogRank(arm, control, None, None, False))
            continue
        (dc, ec), (dt, et) = durations[control], durations[arm]
        result = logrank_test(dt, dc, event_observed_A=et, event_observed_B=ec, alpha=alpha)
        p = finite(result.p_value)
        tests.append(
            LogRank(arm, control, finite(result.test_statistic), p, p is not None and p < alpha)
        )
    return DaysToPay(arms=results, tests=tests)
