"""Sample ratio mismatch: do the arms hold the customers the weights promised?

A split that is off (a version that fails to render for some customers, a re-send that
lands in one arm only) biases every figure and no statistic repairs it, so the check comes
first: Pearson's chi-square goodness of fit of the customers per arm against the weights
(scipy), flagged below p = 0.001 as GrowthBook does (so a sound split is flagged once in a
thousand looks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from app.experiments.arms import ExperimentInputError
from app.experiments.engine import FloatArray

SRM_P_VALUE = 0.001  # GrowthBook's threshold


@dataclass(frozen=True)
class SrmCheck:
    """Customers per arm against the shares the weights promised."""

    observed: list[int]
    expected: list[float]
    p_value: float
    flagged: bool


def srm_p_values(counts: FloatArray, shares: Sequence[float]) -> FloatArray:
    """The chi-square p-value of each row of `counts` (experiments x arms) against `shares`.

    A row with no customers has nothing to mismatch: p = 1.
    """
    observed = np.atleast_2d(np.asarray(counts, dtype=np.float64))
    total = observed.sum(axis=1, keepdims=True)
    expected = total * np.asarray(shares, dtype=np.float64)[None, :]
    empty = total[:, 0] == 0
    safe_expected = np.where(empty[:, None], 1.0, expected)
    safe_observed = np.where(empty[:, None], 1.0, observed)
    # Normalised expectations so scipy's sum check holds to the last bit.
    safe_expected *= safe_observed.sum(axis=1, keepdims=True) / safe_expected.sum(
        axis=1, keepdims=True
    )
    p = stats.chisquare(safe_observed, safe_expected, axis=1).pvalue
    return np.where(empty, 1.0, p)


def check_split(counts: Sequence[int], shares: Sequence[float]) -> SrmCheck:
    """Is the split of `counts` customers (one per arm) what `shares` said?"""
    if len(counts) != len(shares) or len(counts) < 2:
        raise ExperimentInputError("counts", "one count per arm, at least two arms")
    if any(c < 0 for c in counts):
        raise ExperimentInputError("counts", "counts cannot be negative")
    p = float(srm_p_values(np.asarray([counts], dtype=np.float64), shares)[0])
    total = sum(counts)
    return SrmCheck(
        observed=[int(c) for c in counts],
        expected=[total * s for s in shares],
        p_value=p,
        flagged=p < SRM_P_VALUE,
    )
