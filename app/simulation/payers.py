"""When a simulated customer pays, given what the service actually sent them.

Each customer is drawn once from `app.experiments.population` (their kind and latent delay)
with the uniform draws an arm's `Effect` needs, all from one seeded generator. When they
pay is then decided by what happens in the run, as the population's model says:

    on time        delivery of their bill + delay
    forgetful      first reminder the service delivered + delay; never reminded, they pay
                   as the unreminded do (the due date + the late payers' median + delay)
    chronic late   the bill's deadline (end of the due date) + delay
    never          never

A customer the service put in an arm with an effect (their bill's render pinned that arm's
version) is persuaded with the effect's chance, drawn beforehand: they pay at the latest at
a moment uniform between delivery and the deadline. For a bill that would miss its
deadline that is exactly `Effect.apply`; a bill paid in time keeps its rate, so the planted
lift in points is the effect's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from app.experiments.population import Population, _late_without_nudge

DAY = timedelta(days=1)


@dataclass
class Payer:
    """One customer's draws and what the run has told about them so far."""

    customer_id: str
    kind: str
    delay_days: float  # after the kind's anchor; inf: never pays
    persuade_draw: float  # uniform: persuaded when below the arm's effect
    moment_draw: float  # uniform: where between delivery and deadline a persuaded one pays
    amount: str  # the bill's total, a decimal string
    delivered_at: datetime | None = None  # the bill's own render, done
    deadline: datetime | None = None  # end of the due date, in the customer's zone
    first_reminder_at: datetime | None = None  # the first journey step delivered to them
    persuaded_share: float = 0.0  # the effect of the arm the service put the bill in
    paid_at: datetime | None = None  # once reported

    def pays_at(self, late_without_reminder_days: float) -> datetime | None:
        """When they pay, as far as the run has shown (None: not known yet, or never).

        A moment that is not after the clock is final: a reminder still to come could only
        make it later, and the min with it keeps it."""
        if self.delivered_at is None or self.deadline is None:
            return None
        own = self._own_moment(late_without_reminder_days)
        if self.persuade_draw < self.persuaded_share:
            persuaded = self.delivered_at + self.moment_draw * (self.deadline - self.delivered_at)
            return persuaded if own is None else min(own, persuaded)
        return own

    def _own_moment(self, late_days: float) -> datetime | None:
        if not np.isfinite(self.delay_days):
            return None
        assert self.delivered_at is not None and self.deadline is not None
        delay = self.delay_days * DAY
        if self.kind == "forgetful":
            unreminded = self.deadline + late_days * DAY + delay
            if self.first_reminder_at is not None:
                return min(self.first_reminder_at + delay, unreminded)
            return unreminded  # final only once the clock has passed it with no reminder
        if self.kind == "chronic_late":
            return self.deadline + delay
        return self.delivered_at + delay


def draw_payers(
    population: Population, customers: int, rng: np.random.Generator, id_prefix: str = "sim"
) -> list[Payer]:
    """`customers` new customers with one bill each, from the seeded `rng`."""
    kinds = population.draw_kinds(customers, rng)
    bills = population.draw_bills(kinds, rng)
    persuade, moment = rng.random(customers), rng.random(customers)
    amounts = np.round(rng.lognormal(mean=4.0, sigma=0.5, size=customers), 2)
    return [
        Payer(
            customer_id=f"{id_prefix}-{i:07d}",
            kind=population.kinds[int(kinds[i])].name,
            delay_days=float(bills.delay[i]),
            persuade_draw=float(persuade[i]),
            moment_draw=float(moment[i]),
            amount=f"{max(amounts[i], 1.0):.2f}",
        )
        for i in range(customers)
    ]


def late_without_reminder_days(population: Population) -> float:
    """How late an unreminded forgetful customer remembers, after the due date."""
    return _late_without_nudge(population)
