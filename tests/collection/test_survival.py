"""Days to pay from grouped counts (`app.collection.survival`), at the curve's edges."""

from __future__ import annotations

from app.collection.survival import days_to_pay


def test_a_curve_of_one_day_has_its_quantiles_or_none() -> None:
    """Every bill read on the day it was issued: a one-day curve, which lifelines' own
    quantile function cannot read (the figures answered 500)."""
    unpaid = days_to_pay([(0, False, 3)])
    assert (unpaid.bills, unpaid.paid, unpaid.median, unpaid.p90) == (3, 0, None, None)
    assert unpaid.curve == [(0, 1.0)]
    paid = days_to_pay([(0, True, 2)])
    assert (paid.median, paid.p90, paid.curve) == (0.0, 0.0, [(0, 0.0)])


def test_quantiles_are_read_off_the_censored_curve() -> None:
    # Two of four paid (days 3 and 7), two still unpaid at day 9: half paid by day 7, and
    # 90 % not reached yet, where a median over the payers alone would say 5.
    figures = days_to_pay([(3, True, 1), (7, True, 1), (9, False, 2)])
    assert (figures.median, figures.p90) == (7.0, None)
    assert figures.curve[3] == (3, 0.75) and figures.curve[7] == (7, 0.5)
