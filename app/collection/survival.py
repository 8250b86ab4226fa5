"""Days to pay from grouped counts: a Kaplan-Meier curve fitted with weights (lifelines).

The same estimate as `app.experiments.survival`, fitted from (days, paid, bills) rows instead
of one value per bill, so a million bills cost a few hundred weighted rows. An unpaid bill
has not paid *yet*: it is censored at the days it has been out. The median and p90 days to
pay are where the curve of the share still unpaid comes down to 50 % and 10 %, and None where
it has not come that far (the honest answer while many are unpaid).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from lifelines import KaplanMeierFitter

MAX_CURVE_DAYS = 120  # the charted curve stops here; the quantiles use every day observed


@dataclass(frozen=True)
class DaysToPay:
    bills: int
    paid: int
    median: float | None  # days from issue until half were paid; None: not yet
    p90: float | None  # days until 90 % were paid; None: not yet
    curve: list[tuple[int, float]]  # (day, share still unpaid), one point per day


def _first_at_or_below(timeline: np.ndarray, unpaid: np.ndarray, share: float) -> float | None:
    """The first day the fitted curve is at or below `share` (lifelines' `qth_survival_time`,
    which fails on a curve of one day: every bill read on the day it was issued)."""
    reached = np.flatnonzero(unpaid <= share)
    return float(timeline[reached[0]]) if reached.size else None


def days_to_pay(rows: Iterable[tuple[int, bool, int]]) -> DaysToPay:
    """`rows`: (days from issue, paid, bills) with bills > 0, days >= 0."""
    merged: dict[tuple[int, bool], int] = {}
    for days, paid, bills in rows:
        merged[days, paid] = merged.get((days, paid), 0) + bills
    if not merged:
        return DaysToPay(0, 0, None, None, [])
    keys = sorted(merged)
    durations = np.array([d for d, _ in keys], dtype=np.float64)
    observed = np.array([p for _, p in keys], dtype=bool)
    weights = np.array([merged[k] for k in keys], dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines notes quantiles are read off steps: intended
        fitter = KaplanMeierFitter().fit(durations, event_observed=observed, weights=weights)
    unpaid = fitter.survival_function_
    timeline = unpaid.index.to_numpy(dtype=np.float64)
    values = unpaid.to_numpy(dtype=np.float64)[:, 0]
    last = int(min(durations.max(), MAX_CURVE_DAYS))
    grid = np.arange(last + 1, dtype=np.float64)
    at = np.maximum(np.searchsorted(timeline, grid, side="right") - 1, 0)
    return DaysToPay(
        bills=int(weights.sum()),
        paid=int(weights[observed].sum()),
        median=_first_at_or_below(timeline, values, 0.5),
        p90=_first_at_or_below(timeline, values, 0.1),
        curve=[(int(day), round(float(values[i]), 6)) for day, i in zip(grid, at, strict=True)],
    )
