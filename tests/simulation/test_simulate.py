"""`billreel simulate` through the real service (an app from `create_app` on a fresh SQLite
data directory, driven through its HTTP API on its clock file): the report the service gives
is the ground truth's, a planted lift is found, a skewed split is flagged (an A/A run is not:
test_a_a.py; the command itself: test_command.py).

Sizes. The service judges with the engine's defaults: the sequence is tuned for 5,000
customers, so at a few hundred it is wide, and the price of being allowed to look every day
is paid in full. At 400 customers (about 200 an arm) a lift of 30 points (of the 34 the
population leaves: 66 % of first bills are paid in time) was found by 40 of 40 seeds of a
model of this run (judge over the same payers, without the service), 25 points by 26 of 40:
so 30 points is where power is near 1. The proofs at scale (200 A/A experiments, 5 points at
6,000 customers) are in tests/experiments/test_simulation.py. The journey is its first step
only (3 days before the due date: the forgetful pay after it, the rest get a second bill),
which keeps a run of 400 customers to about half a minute; the CLI's default has three steps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.experiments.population import Population
from app.simulation.design import CONTROL, TREATMENT
from app.simulation.payers import Payer, late_without_reminder_days
from app.simulation.run import Config, Result
from app.simulation.summary import differences
from tests.simulation.kit import CUSTOMERS, LIFT_POINTS, STEPS, arm, run


@pytest.fixture(scope="module")
def lifted() -> Result:
    return run(Config(customers=CUSTOMERS, seed=11, lift_points=LIFT_POINTS, steps=STEPS))


def test_the_service_reports_the_bills_the_simulator_delivered_and_was_paid(
    lifted: Result,
) -> None:
    assert differences(lifted.report, lifted.ground_truth) == []
    assert (lifted.lost_renders, lifted.misplaced) == (0, 0)
    # Every bill delivered is in the report once (its reminders are the same bill), in its
    # customer's assigned arm.
    assert len(lifted.delivered) > CUSTOMERS  # reminders went out
    assert sum(a["bills"] for a in lifted.report["arms"]) == CUSTOMERS
    assert {a["arm"]: a["customers"] for a in lifted.report["arms"]} == lifted.truth[
        "customers_by_arm"
    ]
    assert sum(a["counted_bills"] for a in lifted.report["arms"]) == CUSTOMERS
    for name in (CONTROL, TREATMENT):
        ours, truth = arm(lifted.report, name), arm(lifted.ground_truth, name)
        assert ours["conversion"] == pytest.approx(truth["conversion"], abs=1e-12)
        assert ours["interval"] == pytest.approx(truth["interval"], abs=1e-12)
    # The run's figures count the same bills and payments (their first renders).
    [group] = lifted.figures["groups"]
    assert (group["bills"], group["paid"]) == (CUSTOMERS, lifted.truth["paid"])


def test_a_planted_lift_is_found(lifted: Result) -> None:
    treatment = arm(lifted.report, TREATMENT)
    assert treatment["verdict"] == "better"
    assert treatment["chance_to_beat_control"] > 0.99
    assert lifted.report["status"] == "winner" and lifted.report["winner"] == TREATMENT
    assert not lifted.report["srm"]["flagged"]


def test_a_skewed_split_raises_the_mismatch_flag() -> None:
    # 70 % of the treatment arm's renders never run: only the split matters, so a day passes.
    result = run(Config(customers=120, seed=13, skew=0.7, steps=STEPS, days=1))
    assert result.lost_renders > 0
    assert result.report["srm"]["flagged"] and result.report["status"] == "split_broken"
    assert differences(result.report, result.ground_truth) == []
    # The design itself split them evenly: what broke it is the renders that never ran.
    by_arm = result.truth["customers_by_arm"]
    assert abs(by_arm[CONTROL] - by_arm[TREATMENT]) < 30


def test_a_forgetful_payer_pays_after_the_first_reminder_or_late_without_one() -> None:
    start = datetime(2027, 1, 11, 9, tzinfo=UTC)
    deadline = start + timedelta(days=11)
    late = late_without_reminder_days(Population())
    payer = Payer("sim-1", "forgetful", 0.5, 0.9, 0.5, "10.00", start, deadline)
    assert payer.pays_at(late) == deadline + timedelta(days=late + 0.5)  # not reminded yet
    payer.first_reminder_at = start + timedelta(days=7)
    assert payer.pays_at(late) == start + timedelta(days=7.5)
    payer.persuaded_share = 0.95  # persuaded (0.9 < 0.95): half-way to the deadline at the latest
    assert payer.pays_at(late) == start + timedelta(days=5.5)
    never = Payer("sim-2", "never", float("inf"), 0.9, 0.5, "10.00", start, deadline)
    assert never.pays_at(late) is None
