"""An A/A run through the service, of the lift's size (tests/simulation/test_simulate.py):
not flagged, and its report is its ground truth's."""

from __future__ import annotations

from app.simulation.design import TREATMENT
from app.simulation.run import Config
from app.simulation.summary import differences
from tests.simulation.kit import CUSTOMERS, STEPS, arm, run


def test_an_a_a_run_of_the_same_size_is_not_flagged() -> None:
    result = run(Config(customers=CUSTOMERS, seed=12, steps=STEPS))
    assert differences(result.report, result.ground_truth) == []
    assert arm(result.report, TREATMENT)["verdict"] == "inconclusive"
    assert result.report["status"] == "keep_going"
    assert not result.report["srm"]["flagged"]
