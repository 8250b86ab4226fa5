"""Days to pay as censored survival, and why a mean over those who paid would mislead."""

from __future__ import annotations

import numpy as np
import pytest

from app.experiments.survival import days_to_pay


def test_kaplan_meier_by_hand() -> None:
    # Paid on days 2, 4, 6, 8; two unpaid seen for 5 and 10 days. Product-limit by hand:
    # S(2) = 5/6, S(4) = 5/6 * 4/5 = 2/3, (5: censored), S(6) = 2/3 * 2/3 = 4/9, S(8) = 2/9.
    days = np.array([2, 4, 5, 6, 8, 10], dtype=float)
    paid = np.array([1, 1, 0, 1, 1, 0], dtype=float)
    result = days_to_pay(["a", "b"], "a", {"a": (days, paid), "b": (days, paid)})
    arm = result.arms[0]
    assert (arm.bills, arm.paid) == (6, 4)
    unpaid = {p.day: p.unpaid for p in arm.curve}
    assert (
        unpaid[1] == 1.0 and unpaid[3] == pytest.approx(5 / 6) and unpaid[5] == pytest.approx(2 / 3)
    )
    assert unpaid[7] == pytest.approx(4 / 9) and unpaid[10] == pytest.approx(2 / 9)
    assert arm.median.days == 6.0  # the first day the curve is at or below 1/2
    assert arm.p90.days is None  # 2/9 are still unpaid at the end: not reached
    assert all(p.low <= p.unpaid <= p.high for p in arm.curve)
    assert result.tests[0].p_value == pytest.approx(1.0) and not result.tests[0].different


def test_an_arm_that_makes_slow_payers_pay_is_faster_though_its_payers_mean_is_slower() -> None:
    rng = np.random.default_rng(4)
    n, look = 3000, 60.0
    # Control: 70 % pay within about a week, the rest never. Treatment: the same, and half
    # of the never-payers pay around day 30 after the last notice.
    fast = rng.gamma(2.0, 3.0, size=n)
    never = rng.random(n) < 0.3
    control = np.where(never, np.inf, fast)
    late = never & (rng.random(n) < 0.5)
    treatment = np.where(late, rng.normal(30, 3, size=n), control)

    def seen(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.minimum(d, look), (d <= look).astype(float)

    result = days_to_pay(
        ["control", "v2"], "control", {"control": seen(control), "v2": seen(treatment)}
    )
    mean_of_payers = [d[np.isfinite(d)].mean() for d in (control, treatment)]
    assert mean_of_payers[1] > mean_of_payers[0] + 3  # the naive figure says "slower"
    c, t = result.arms
    assert t.curve[45].unpaid < c.curve[45].unpaid - 0.1  # fewer unpaid on day 45
    assert t.p90.days is None and c.p90.days is None  # 30 % / 15 % never pay by day 60
    assert result.tests[0].different and result.tests[0].p_value is not None
    assert result.tests[0].p_value < 1e-6
    assert c.median.low is not None and c.median.high is not None
    assert c.median.low <= (c.median.days or 0) <= c.median.high


def test_an_empty_arm_has_no_figures() -> None:
    result = days_to_pay(["a", "b"], "a", {"a": (np.array([1.0, 2.0]), np.array([1.0, 0.0]))})
    assert result.arms[1].bills == 0 and result.arms[1].median.days is None
    assert result.tests[0].p_value is None and not result.tests[0].different
