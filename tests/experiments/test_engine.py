"""The engine against gbstats itself, and its decisions against its own intervals.

gbstats cannot be installed beside this service's numpy 2, so its figures are held here:
computed by gbstats 0.8.0 (numpy 1.26, scipy 1.17) with RatioStatistic inputs built from the
same sums, `SequentialTwoSidedTTest` (alpha 0.05, tuning 5000) for estimate, ci and p-value,
`EffectBayesianABTest` flat, with a proper prior N(0, 0.3^2) on the same scale, and inverse,
for chance to win and risk = [risk of keeping control, risk of choosing the variation].
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.experiments.arms import ExperimentInputError
from app.experiments.engine import (
    GaussianPrior,
    Settings,
    Sums,
    compare,
    critical_z,
    sequential_power,
    signals,
)

GBSTATS_0_8_0 = {
    "proportions/relative": {
        "a": (2000, 1360, 1360, 2000, 2000, 1360),
        "b": (2000, 1460, 1460, 2000, 2000, 1460),
        "estimate": 0.07352941176470577,
        "ci": (0.00660404148174637, 0.14045478204766518),
        "p_value": 0.021869653935201457,
        "flat": (0.999581697116867, (0.07353181303181465, 2.4012671088825494e-06)),
        "proper": (0.9995680026541223, (0.07313814581404023, 2.4784103519463215e-06)),
        "inverse": (0.0004183028831330482, (2.4012671088825494e-06, 0.07353181303181465)),
    },
    "proportions/absolute": {
        "a": (2000, 1360, 1360, 2000, 2000, 1360),
        "b": (2000, 1460, 1460, 2000, 2000, 1460),
        "estimate": 0.04999999999999993,
        "ci": (0.006208725051034557, 0.0937912749489653),
        "p_value": 0.014872293202632418,
        "flat": (0.9997411603433856, (0.05000094331852866, 9.433185287192841e-07)),
        "proper": (0.9997372831643919, (0.04988597019674444, 9.572173800656477e-07)),
        "inverse": (0.0002588396566144402, (9.433185287192841e-07, 0.05000094331852866)),
    },
    "clustered/relative": {
        "a": (3100, 2950, 4210, 4400, 7300, 4130),
        "b": (3050, 3010, 4390, 4350, 7210, 4290),
        "estimate": 0.03206701733878826,
        "ci": (-0.033302454455741835, 0.09743648913331834),
        "p_value": 1.0,
        "flat": (0.9318751296001923, (0.0327124453336662, 0.0006454279948779378)),
        "proper": (0.9313714741062412, (0.03255219192122517, 0.0006493800423044402)),
        "inverse": (0.06812487039980775, (0.0006454279948779378, 0.0327124453336662)),
    },
    "clustered/absolute": {
        "a": (3100, 2950, 4210, 4400, 7300, 4130),
        "b": (3050, 3010, 4390, 4350, 7210, 4290),
        "estimate": 0.02149947753396031,
        "ci": (-0.021630060805750688, 0.06462901587367131),
        "p_value": 1.0,
        "flat": (0.9349877996576503, (0.02190253766717607, 0.0004030601332157626)),
        "proper": (0.9347727960997729, (0.021855587571226208, 0.00040417340807750524)),
        "inverse": (0.06501220034234967, (0.0004030601332157626, 0.02190253766717607)),
    },
    "rare/relative": {
        "a": (5000, 21, 21, 5000, 5000, 21),
        "b": (5000, 40, 40, 5000, 5000, 40),
        "estimate": 0.9047619047619049,
        "ci": (-0.6624980641423721, 2.472021873666182),
        "p_value": 0.9451854059184163,
        "flat": (0.9614157747062418, (0.9126923815133287, 0.007930476751423865)),
        "proper": (0.8142247988452562, (0.2575863701916993, 0.026302269457960797)),
        "inverse": (0.038584225293758156, (0.007930476751423865, 0.9126923815133287)),
    },
    "rare/absolute": {
        "a": (5000, 21, 21, 5000, 5000, 21),
        "b": (5000, 40, 40, 5000, 5000, 40),
        "estimate": 0.0038000000000000004,
        "ci": (-0.0009666294148586137, 0.008566629414858615),
        "p_value": 0.24932575004679414,
        "flat": (0.9926693137540838, (0.0038037448569903536, 3.7448569903530196e-06)),
        "proper": (0.9926686465987682, (0.0038036428311901136, 3.7451817217298085e-06)),
        "inverse": (0.0073306862459161515, (3.7448569903530196e-06, 0.0038037448569903536)),
    },
}


@pytest.mark.parametrize("case", sorted(GBSTATS_0_8_0))
def test_figures_are_gbstats_figures(case: str) -> None:
    gold = GBSTATS_0_8_0[case]
    kind = "relative" if case.endswith("relative") else "absolute"
    control, arm = Sums(*gold["a"]), Sums(*gold["b"])  # type: ignore[arg-type]
    close = {"rel": 1e-9, "abs": 1e-12}

    c = compare("b", "a", control, arm, Settings(), kind)
    assert c.estimate == pytest.approx(gold["estimate"], **close)
    assert (c.interval.low, c.interval.high) == pytest.approx(gold["ci"], **close)
    assert c.p_value == pytest.approx(gold["p_value"], **close)
    for name, settings, lower_is_better in [
        ("flat", Settings(), False),
        ("proper", Settings(prior=GaussianPrior(0.0, 0.3)), False),
        ("inverse", Settings(), True),
    ]:
        ctw, (risk_control, risk_arm) = gold[name]  # type: ignore[misc]
        c = compare("b", "a", control, arm, settings, kind, lower_is_better)
        assert c.chance_to_beat_control == pytest.approx(ctw, **close)
        assert c.expected_loss == pytest.approx(risk_arm, **close)
        assert c.expected_loss_of_control == pytest.approx(risk_control, **close)


def test_a_verdict_is_given_exactly_when_the_interval_leaves_zero() -> None:
    rng = np.random.default_rng(1)
    n = rng.integers(50, 5000, size=(2, 400)).astype(float)
    rate = rng.uniform(0.05, 0.95, size=(2, 1)) + rng.normal(0, 0.04, size=(2, 400))
    hits = np.round(n * np.clip(rate, 0.01, 0.99))
    control, arm = Sums.proportion(n[0], hits[0]), Sums.proportion(n[1], hits[1])
    settings = Settings()
    found = signals(control, arm, settings)
    assert 0 < (found != 0).sum() < found.size  # both kinds of case are here
    for i in range(found.size):
        c = compare("b", "a", Sums.proportion(n[0, i], hits[0, i]),
                    Sums.proportion(n[1, i], hits[1, i]), settings)  # fmt: skip
        assert c.interval.low is not None and c.interval.high is not None and c.p_value
        excludes_zero = c.interval.low > 0 or c.interval.high < 0
        assert excludes_zero == (c.p_value < settings.alpha) == (found[i] != 0)
        assert c.verdict == {1.0: "better", -1.0: "worse", 0.0: "inconclusive"}[found[i]]
        assert (c.interval.low > 0) == (found[i] > 0)


def test_lower_is_better_turns_the_verdict_not_the_interval() -> None:
    control, arm = Sums.proportion(4000, 40), Sums.proportion(4000, 110)
    higher = compare("b", "a", control, arm, Settings(), "absolute")
    lower = compare("b", "a", control, arm, Settings(), "absolute", lower_is_better=True)
    assert (higher.verdict, lower.verdict) == ("better", "worse")
    assert higher.interval == lower.interval
    assert lower.chance_to_beat_control == pytest.approx(1 - (higher.chance_to_beat_control or 0))


@pytest.mark.parametrize(
    ("control", "arm", "kind"),
    [
        (Sums.proportion(49, 20), Sums.proportion(500, 200), "relative"),  # too few in control
        (Sums.proportion(500, 0), Sums.proportion(500, 20), "relative"),  # nothing to divide by
        (Sums.proportion(500, 0), Sums.proportion(500, 0), "absolute"),  # no variance at all
    ],
)
def test_too_little_data_gives_no_verdict(control: Sums, arm: Sums, kind: str) -> None:
    c = compare("b", "a", control, arm, Settings(), kind)  # type: ignore[arg-type]
    assert c.verdict == "not_enough_data"
    assert c.interval.low is None and c.p_value is None and c.chance_to_beat_control is None
    assert float(signals(control, arm, Settings(), kind)) == 0.0  # type: ignore[arg-type]


def test_the_sequence_is_wider_than_a_fixed_horizon_interval_and_tightest_near_tuning() -> None:
    settings = Settings(tuning=6000)
    assert float(critical_z(6000, settings)) > 1.96
    # The sequence costs least against a fixed-horizon interval near the tuned size.
    z = critical_z(np.array([600.0, 6000.0, 60000.0]), settings)
    assert z[1] < z[0] and z[1] < z[2]


def test_power_grows_with_size_and_effect() -> None:
    settings = Settings(tuning=6000)
    assert sequential_power(0.65, 0.70, 3000, settings) > sequential_power(
        0.65, 0.70, 1000, settings
    )
    assert sequential_power(0.65, 0.75, 1000, settings) > sequential_power(
        0.65, 0.70, 1000, settings
    )
    assert sequential_power(0.65, 0.65, 3000, settings) < settings.alpha


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 0.7}, "alpha"),
        ({"tuning": math.nan}, "tuning"),
        ({"prior": GaussianPrior(0.0, 0.0)}, "prior"),
        ({"min_units": 1}, "min_units"),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ExperimentInputError) as raised:
        Settings(**kwargs)  # type: ignore[arg-type]
    assert raised.value.field == field
