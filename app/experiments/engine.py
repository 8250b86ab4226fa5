"""The statistics of one metric, an arm against control: GrowthBook's engines, with scipy.

Why this method (docs/collection.md, "How an experiment is judged", says it at length):

* A credit manager looks at a running experiment every day and stops it when it looks won.
  A fixed-horizon test read that way flags a difference far more often than its stated 5 %
  (tests/experiments/test_simulation.py measures it). So the decision is made by GrowthBook's
  sequential frequentist engine: the asymptotic confidence sequence of Waudby-Smith et al.
  (2023, arXiv:2103.06476 eq. 9, mixing parameter by eq. 161 for a sample of `tuning` units)
  around the delta-method estimate of the lift. It covers the true lift at every look at once
  with probability >= 1 - alpha, so "the interval excludes 0" may be checked after every bill
  and wrongly says "different" at most alpha of the time (asymptotically, which the
  simulations check at this service's sizes). Its p-value is the matching always-valid one
  (eq. 155): below alpha exactly when the interval excludes 0.
* The chance to beat control and the expected loss are GrowthBook's Bayesian readings of the
  same estimate: a normal posterior for the lift, flat by default or with a Gaussian prior,
  and the expected loss as the truncated normal's mean times its probability. They say how
  much is at stake if one stopped now; they are not the stopping rule, because a flat-prior
  chance to beat control above 95 % is a one-sided fixed-horizon test and inflates under
  peeking just like it.

Units are customers (the unit of assignment), so a customer with several bills counts once
and their bills' correlation cannot narrow the intervals: a metric is a ratio of two sums
over customers (bills paid on time / bills) with the delta-method variance of gbstats'
`RatioStatistic`. Every function here takes numbers or numpy arrays of them (one entry per
simulated experiment), so the simulations run the very code the service runs.
gbstats itself cannot be installed beside this service's numpy 2 (it pins numpy < 2 and
pandas < 2); tests/experiments/test_engine.py holds figures computed by gbstats 0.8.0 and
checks these functions against them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from app.experiments.arms import ExperimentInputError

FloatArray = npt.NDArray[np.float64]
Num = float | FloatArray

DEFAULT_ALPHA = 0.05  # the stated error rate: GrowthBook's default
DEFAULT_TUNING = 5000  # units (customers, both arms) where the sequence is tightest: GrowthBook's
DEFAULT_MIN_UNITS = 50  # per arm, below which no verdict is given (the normal approximation)

Difference = Literal["relative", "absolute"]
Verdict = Literal["better", "worse", "inconclusive", "not_enough_data"]


@dataclass(frozen=True)
class GaussianPrior:
    """A normal prior on the difference (a relative lift: 0.3 is +30 %), GrowthBook's shape."""

    mean: float = 0.0
    sd: float = 0.3


@dataclass(frozen=True)
class Settings:
    """How a comparison is judged; the defaults are GrowthBook's, but `min_units`."""

    alpha: float = DEFAULT_ALPHA
    tuning: float = DEFAULT_TUNING
    prior: GaussianPrior | None = None  # None: flat (improper), GrowthBook's default
    min_units: int = DEFAULT_MIN_UNITS

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 0.5:
            raise ExperimentInputError("alpha", "must be between 0 and 0.5")
        if not (math.isfinite(self.tuning) and self.tuning >= 1):
            raise ExperimentInputError("tuning", "must be a number of units, at least 1")
        if self.prior is not None and not (self.prior.sd > 0 and math.isfinite(self.prior.mean)):
            raise ExperimentInputError("prior", "needs a finite mean and a positive sd")
        if self.min_units < 2:
            raise ExperimentInputError("min_units", "must be at least 2")


@dataclass(frozen=True)
class Sums:
    """One arm's sums over its `n` customers of a ratio metric m/d, and of their squares.

    For "paid by the due date": m is a customer's bills paid in time, d their bills. With one
    bill per customer it is a plain proportion (m = m2 = successes, d = d2 = n, md = m).
    """

    n: Num
    m: Num
    m2: Num
    d: Num
    d2: Num
    md: Num

    @classmethod
    def proportion(cls, n: Num, successes: Num) -> Sums:
        """One bill per customer: `successes` of `n`."""
        return cls(n=n, m=successes, m2=successes, d=n, d2=n, md=successes)


def _arr(x: Num) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def mean(s: Sums) -> FloatArray:
    """The arm's ratio: sum of m over sum of d (0 when there is no d)."""
    d = _arr(s.d)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, _arr(s.m) / d, 0.0)


def unit_variance(s: Sums) -> FloatArray:
    """The delta-method variance of the ratio, per customer (gbstats `RatioStatistic`)."""
    n = _arr(s.n)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_m = (_arr(s.m2) - _arr(s.m) ** 2 / n) / (n - 1)
        var_d = (_arr(s.d2) - _arr(s.d) ** 2 / n) / (n - 1)
        cov = (_arr(s.md) - _arr(s.m) * _arr(s.d) / n) / (n - 1)
        mu_m, mu_d = _arr(s.m) / n, _arr(s.d) / n
        var = var_m / mu_d**2 - 2 * cov * mu_m / mu_d**3 + mu_m**2 * var_d / mu_d**4
    return np.where((n > 1) & (mu_d > 0), var, 0.0)


def difference(
    control: Sums, treatment: Sums, kind: Difference = "relative"
) -> tuple[FloatArray, FloatArray]:
    """The estimated difference treatment - control and its variance (gbstats' formulas).

    Relative: (mean_t - mean_c) / mean_c, variance by the delta method; absolute: mean_t - mean_c.
    """
    mc, mt = mean(control), mean(treatment)
    vc = unit_variance(control) / _arr(control.n)
    vt = unit_variance(treatment) / _arr(treatment.n)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "relative":
            estimate = (mt - mc) / mc
            variance = vt / mc**2 + vc * mt**2 / mc**4
        else:
            estimate = mt - mc
            variance = vt + vc
    return estimate, variance


def _rho2(alpha: float, tuning: Num) -> FloatArray:
    # eq. 161: the mixing variance that makes the sequence tightest at `tuning` units
    return (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / _arr(tuning)


def sequence_halfwidth(variance: Num, units: Num, alpha: float, tuning: Num) -> FloatArray:
    """Half the width of the asymptotic confidence sequence (eq. 9) of an estimate.

    `variance` is the estimate's, `units` how many units it stands on (both arms' for a
    difference). Valid at every look at once, not only at the one it is computed at.
    """
    n = _arr(units)
    rho2 = _rho2(alpha, tuning)
    s2 = _arr(variance) * n
    with np.errstate(divide="ignore", invalid="ignore"):
        w2 = s2 * 2 * (n * rho2 + 1) * np.log(np.sqrt(n * rho2 + 1) / alpha) / (n**2 * rho2)
    return np.sqrt(w2)


def sequential_p_value(
    estimate: Num, variance: Num, units: Num, alpha: float, tuning: float
) -> FloatArray:
    """The always-valid p-value of "no difference" (eq. 155; 1 / the mixture's e-value)."""
    n = _arr(units)
    rho2 = _rho2(alpha, tuning)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        st2 = _arr(estimate) ** 2 * n / _arr(variance)
        tr2p1 = n * rho2 + 1
        log_evalue = rho2 * st2 / (2 * tr2p1) - 0.5 * np.log(tr2p1)
        return np.minimum(1.0, np.exp(-log_evalue))


def usable(control: Sums, treatment: Sums, kind: Difference, min_units: int) -> FloatArray:
    """Where a verdict may be given: enough customers, some variance, a control to divide by."""
    _, variance = difference(control, treatment, kind)
    ok = (_arr(control.n) >= min_units) & (_arr(treatment.n) >= min_units)
    ok &= np.isfinite(variance) & (variance > 0)
    if kind == "relative":
        ok &= mean(control) > 0
    return ok.astype(np.float64)


def signals(
    control: Sums,
    treatment: Sums,
    settings: Settings,
    kind: Difference = "relative",
) -> FloatArray:
    """+1 where the treatment is higher with confidence, -1 lower, 0 not known (or too little).

    The decision of `compare`, for arrays of experiments: what the simulations count.
    """
    estimate, variance = difference(control, treatment, kind)
    units = _arr(control.n) + _arr(treatment.n)
    half = sequence_halfwidth(variance, units, settings.alpha, settings.tuning)
    ok = usable(control, treatment, kind, settings.min_units) > 0
    up = ok & (estimate - half > 0)
    down = ok & (estimate + half < 0)
    return up.astype(np.float64) - down.astype(np.float64)


def posterior(estimate: Num, variance: Num, prior: GaussianPrior | None) -> tuple[Num, Num]:
    """The normal posterior of the difference: the estimate itself under a flat prior."""
    if prior is None:
        return estimate, np.sqrt(_arr(variance))
    precision = 1 / _arr(variance) + 1 / prior.sd**2
    post_mean = (_arr(estimate) / _arr(variance) + prior.mean / prior.sd**2) / precision
    return post_mean, np.sqrt(1 / precision)


def chance_to_beat(post_mean: Num, post_sd: Num, lower_is_better: bool = False) -> FloatArray:
    """The posterior probability that the arm is better than control."""
    above = stats.norm.sf(0.0, loc=post_mean, scale=post_sd)
    return _arr(1 - above if lower_is_better else above)


def expected_losses(
    post_mean: Num, post_sd: Num, lower_is_better: bool = False
) -> tuple[FloatArray, FloatArray]:
    """(loss choosing the arm, loss keeping control): the posterior mean of what would be lost.

    GrowthBook's `get_risk`: the probability of being wrong times the mean of the truncated
    normal on the wrong side, in the difference's units.
    """
    mu, sd = _arr(post_mean), _arr(post_sd)
    p_below = stats.norm.cdf(0.0, loc=mu, scale=sd)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_below = stats.truncnorm.mean(-np.inf, (0.0 - mu) / sd, loc=mu, scale=sd)
        mean_above = stats.truncnorm.mean((0.0 - mu) / sd, np.inf, loc=mu, scale=sd)
    # Far in a tail the truncated mean is nan where its weight is 0: the loss is 0 there.
    loss_if_higher_wins = np.nan_to_num(-p_below * mean_below)  # choosing the arm, it is lower
    loss_if_lower_wins = np.nan_to_num((1 - p_below) * mean_above)  # keeping control, arm higher
    if lower_is_better:
        return loss_if_lower_wins, loss_if_higher_wins
    return loss_if_higher_wins, loss_if_lower_wins


def arm_interval(s: Sums, settings: Settings, units_total: Num) -> tuple[FloatArray, FloatArray]:
    """An arm's own share with its confidence sequence, clipped to [0, 1].

    The sequence is tuned like the comparison's: `tuning` is for all the experiment's
    customers, so this arm gets the part of it that its customers are of `units_total`.
    """
    n = _arr(s.n)
    tuning = np.maximum(settings.tuning * n / np.maximum(_arr(units_total), 1), 1.0)
    rate = mean(s)
    half = sequence_halfwidth(unit_variance(s) / n, n, settings.alpha, tuning)
    return np.clip(rate - half, 0.0, 1.0), np.clip(rate + half, 0.0, 1.0)


def finite(x: object) -> float | None:
    """A figure for JSON: a finite float, or None where there is none (nan, inf)."""
    value = float(x)  # type: ignore[arg-type]
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Interval:
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Comparison:
    """One arm against control on one metric; every figure None when there is too little data.

    `estimate` and `interval` are the difference treatment - control (relative: 0.05 is
    +5 % of control's rate; absolute: 0.05 is 5 points); the interval and `p_value` are
    anytime-valid. The expected losses are in the same units as the estimate.
    """

    arm: str
    control: str
    difference: Difference
    estimate: float | None
    interval: Interval
    p_value: float | None
    chance_to_beat_control: float | None
    expected_loss: float | None  # if this arm is chosen and is in truth worse
    expected_loss_of_control: float | None  # if control is kept and this arm is in truth better
    verdict: Verdict


def compare(
    arm: str,
    control: str,
    control_sums: Sums,
    arm_sums: Sums,
    settings: Settings,
    kind: Difference = "relative",
    lower_is_better: bool = False,
) -> Comparison:
    """Judge one arm against control on one metric (the scalar reading of the functions above)."""
    estimate, variance = difference(control_sums, arm_sums, kind)
    if not usable(control_sums, arm_sums, kind, settings.min_units):
        return Comparison(
            arm=arm,
            control=control,
            difference=kind,
            estimate=finite(estimate),
            interval=Interval(None, None),
            p_value=None,
            chance_to_beat_control=None,
            expected_loss=None,
            expected_loss_of_control=None,
            verdict="not_enough_data",
        )
    units = _arr(control_sums.n) + _arr(arm_sums.n)
    half = sequence_halfwidth(variance, units, settings.alpha, settings.tuning)
    p_value = sequential_p_value(estimate, variance, units, settings.alpha, settings.tuning)
    post_mean, post_sd = posterior(estimate, variance, settings.prior)
    loss_arm, loss_control = expected_losses(post_mean, post_sd, lower_is_better)
    signal = float(signals(control_sums, arm_sums, settings, kind))
    verdict: Verdict = "inconclusive"
    if signal != 0:
        verdict = "better" if (signal > 0) != lower_is_better else "worse"
    return Comparison(
        arm=arm,
        control=control,
        difference=kind,
        estimate=finite(estimate),
        interval=Interval(finite(estimate - half), finite(estimate + half)),
        p_value=finite(p_value),
        chance_to_beat_control=finite(chance_to_beat(post_mean, post_sd, lower_is_better)),
        expected_loss=finite(loss_arm),
        expected_loss_of_control=finite(loss_control),
        verdict=verdict,
    )


def critical_z(units: Num, settings: Settings) -> FloatArray:
    """How many standard errors from 0 an estimate must be for the sequence to exclude 0."""
    return sequence_halfwidth(np.ones_like(_arr(units)), units, settings.alpha, settings.tuning)


def sequential_power(
    control_rate: float, arm_rate: float, units_per_arm: float, settings: Settings
) -> float:
    """The chance that the sequence excludes 0 at a look with `units_per_arm` customers in
    each of two arms (one bill each), for true paid-in-time rates `control_rate`, `arm_rate`.

    The normal approximation of the relative lift's estimate, as GrowthBook's power
    calculator does it; a lower bound for "found at some look by then".
    """
    if not (0 < control_rate < 1 and 0 < arm_rate < 1 and units_per_arm >= 2):
        raise ExperimentInputError("rates", "rates strictly between 0 and 1, at least 2 units")
    c = Sums.proportion(units_per_arm, control_rate * units_per_arm)
    t = Sums.proportion(units_per_arm, arm_rate * units_per_arm)
    estimate, variance = difference(c, t, "relative")
    z = float(abs(estimate) / np.sqrt(variance))
    z_star = float(critical_z(2 * units_per_arm, settings))
    return float(stats.norm.sf(z_star - z) + stats.norm.cdf(-z_star - z))
