"""Assignment: deterministic, stable, weighted as configured, independent across experiments."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy import stats

from app.experiments.arms import Arm, ExperimentInputError, control_arm, shares
from app.experiments.assignment import Assignment, assign, bucket

ARMS = [Arm("v3", 5), Arm("v4", 3), Arm("holdout", 2, holdout=True)]
CUSTOMERS = [f"cust-{i}" for i in range(20_000)]


def test_the_same_customer_gets_the_same_arm_on_every_bill_and_process() -> None:
    first = [assign("exp-7", c, ARMS) for c in CUSTOMERS[:500]]
    again = [assign("exp-7", c, tuple(ARMS)) for c in CUSTOMERS[:500]]
    assert first == again
    # A known value: the first 8 bytes of SHA-256("5:exp-7:cust-0") / 2**64, which any
    # other process or language reproduces.
    assert bucket("exp-7", "cust-0") == pytest.approx(0.9901668444391701, abs=1e-15)


def test_weights_and_the_holdout_are_respected() -> None:
    arm_of = Assignment(ARMS)
    counts = Counter(arm_of("exp-7", c) for c in CUSTOMERS)
    observed = [counts[a.name] for a in ARMS]
    expected = [len(CUSTOMERS) * s for s in shares(ARMS)]
    assert stats.chisquare(observed, expected).pvalue > 0.001
    assert control_arm(ARMS).name == "v3"


def test_two_experiments_split_the_same_customers_independently() -> None:
    arms = [Arm("a"), Arm("b")]
    one = np.array([assign("exp-1", c, arms) == "a" for c in CUSTOMERS])
    two = np.array([assign("exp-2", c, arms) == "a" for c in CUSTOMERS])
    table = [[(one & two).sum(), (one & ~two).sum()], [(~one & two).sum(), (~one & ~two).sum()]]
    assert stats.chi2_contingency(table).pvalue > 0.001


def test_buckets_are_uniform_and_ids_cannot_run_into_each_other() -> None:
    places = np.array([bucket("exp-7", c) for c in CUSTOMERS])
    assert ((places >= 0) & (places < 1)).all()
    assert stats.kstest(places, "uniform").pvalue > 0.001
    assert bucket("a:b", "c") != bucket("a", "b:c")


@pytest.mark.parametrize(
    ("arms", "field"),
    [
        ([Arm("only")], "arms"),
        ([Arm("a"), Arm("a")], "arms/1/name"),
        ([Arm("a"), Arm("")], "arms/1/name"),
        ([Arm("a"), Arm("b", 0)], "arms/1/weight"),
        ([Arm("a"), Arm("b", float("inf"))], "arms/1/weight"),
        ([Arm("a", holdout=True), Arm("b", holdout=True)], "arms"),
        ("ab", "arms"),
    ],
)
def test_a_bad_design_is_refused_by_name(arms: list[Arm], field: str) -> None:
    with pytest.raises(ExperimentInputError) as raised:
        assign("exp", "cust", arms)
    assert raised.value.field == field


def test_bad_ids_and_a_holdout_control_are_refused() -> None:
    with pytest.raises(ExperimentInputError, match="customer_id"):
        assign("exp", "", ARMS)
    with pytest.raises(ExperimentInputError, match="control"):
        control_arm(ARMS, "holdout")
    with pytest.raises(ExperimentInputError, match="control"):
        control_arm(ARMS, "v9")
