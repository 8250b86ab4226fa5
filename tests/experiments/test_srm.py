"""The sample ratio mismatch check against gbstats' `check_srm` and its flag."""

from __future__ import annotations

import pytest

from app.experiments.arms import ExperimentInputError
from app.experiments.srm import check_split

# gbstats 0.8.0 `check_srm(users, weights)` on the same counts.
GBSTATS_CHECK_SRM = [
    ([5120, 4880], [0.5, 0.5], 0.01639507184919225),
    ([3050, 2950, 1400], [0.4, 0.4, 0.2], 0.028802378821074125),
    ([1000, 1200], [0.5, 0.5], 2.007865612426481e-05),
]


@pytest.mark.parametrize(("counts", "shares", "p"), GBSTATS_CHECK_SRM)
def test_p_values_are_gbstats_and_flag_below_one_in_a_thousand(
    counts: list[int], shares: list[float], p: float
) -> None:
    check = check_split(counts, shares)
    assert check.p_value == pytest.approx(p, rel=1e-9)
    assert check.flagged == (p < 0.001)
    assert check.expected == pytest.approx([sum(counts) * s for s in shares])


def test_no_customers_is_no_mismatch_and_bad_counts_are_refused() -> None:
    assert check_split([0, 0], [0.5, 0.5]).p_value == 1.0
    with pytest.raises(ExperimentInputError):
        check_split([1, 2, 3], [0.5, 0.5])
    with pytest.raises(ExperimentInputError):
        check_split([-1, 2], [0.5, 0.5])
