"""The synthetic population: its draws agree with its CDFs, and a planted lift is that lift."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from app.experiments.arms import ExperimentInputError
from app.experiments.population import Effect, Kind, Population

N = 200_000


def _within(share: float, expected: float) -> bool:
    low, high = stats.binom.ppf([0.0005, 0.9995], N, expected) / N
    return bool(low <= share <= high)


@pytest.mark.parametrize("nudge", [7.0, None])
def test_draws_pay_in_time_as_often_as_the_cdfs_say(nudge: float | None) -> None:
    population = Population()
    days = population.pay_days(population.draw(N, np.random.default_rng(1)), 10.0, nudge)
    assert _within(float((days <= 10.0).mean()), population.paid_in_time_rate(10.0, nudge))
    never = population.kinds[-1]
    assert never.delay is None and _within(float(np.isinf(days).mean()), never.share)


def test_an_effect_for_five_points_plants_five_points() -> None:
    population, rng = Population(), np.random.default_rng(2)
    effect = Effect.for_lift(population, 0.05, 10.0, 7.0)
    base = population.pay_days(population.draw(N, rng), 10.0, 7.0)
    moved = effect.apply(base, 10.0, rng)
    rate = population.paid_in_time_rate(10.0, 7.0)
    assert _within(float((moved <= 10.0).mean()), rate + 0.05)
    assert (moved <= base).all()  # a message only makes payment come sooner


def test_the_forgetful_pay_soon_after_the_first_nudge() -> None:
    population, rng = Population(), np.random.default_rng(3)
    bills = population.draw(N, rng)
    forgetful = bills.kind == 1
    assert population.kinds[1].name == "forgetful"
    early = population.pay_days(bills, 10.0, 3.0)[forgetful]
    later = population.pay_days(bills, 10.0, 8.0)[forgetful]
    assert np.median(later - early) == pytest.approx(5.0)


def test_engagement_follows_the_kinds() -> None:
    population = Population()
    engaged = population.engagement(population.draw(N, np.random.default_rng(4)))
    assert (engaged["watched75"] <= engaged["opened"]).all()
    expected = sum(k.share * k.opens for k in population.kinds)
    assert _within(float(engaged["opened"].mean()), expected)


def test_bad_populations_and_effects_are_refused() -> None:
    with pytest.raises(ExperimentInputError, match="shares"):
        Population((Kind("x", 0.5, "due", stats.expon(), 0.5, 0.5, 0.5, 0.0),))
    with pytest.raises(ExperimentInputError, match="persuaded"):
        Effect(1.5)
    with pytest.raises(ExperimentInputError, match="points"):
        Effect.for_lift(Population(), 0.9, 10.0, 7.0)
