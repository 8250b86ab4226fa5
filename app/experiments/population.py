"""A synthetic population of payers, for simulations of journeys and experiments.

Customers are of a few kinds, each with a share, the moment its payment delay is counted
from, and the delay's distribution (scipy.stats, in days):

    on_time       pays on its own, some days after the bill arrives
    forgetful     forgets until reminded: pays shortly after the first nudge
    chronic_late  pays late whatever is sent: some days after the due date
    never         does not pay

Drawing is in two steps so a simulator that runs journeys can place the nudges itself:
`draw_kinds` fixes who each customer is, `draw_bills` how each of their bills will be met
(latent delay, how they engage), then `pay_days` turns that into days from delivery to
payment for given due dates and first nudges. An arm's
`Effect` persuades a share of the bills that would miss their deadline to pay before it, which
is how a known lift is planted: `Effect.for_lift` finds the share for a lift in points from
the distributions' own CDFs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

import numpy as np
from scipy import stats

from app.experiments.arms import Arm, ExperimentInputError
from app.experiments.assignment import assign
from app.experiments.engine import FloatArray
from app.experiments.records import BillRecord

Anchor = Literal["delivery", "nudge", "due"]


@dataclass(frozen=True)
class Kind:
    """One kind of payer; `delay` is None for those who never pay."""

    name: str
    share: float
    anchor: Anchor
    delay: stats.rv_continuous | stats.rv_discrete | None  # a frozen scipy distribution
    opens: float  # chance to open the microsite
    watches75: float  # chance to watch 75 % of the video, given opened
    clicks: float  # chance to click pay, given opened
    complains: float  # chance to complain or opt out


def _default_kinds() -> tuple[Kind, ...]:
    # Delays: on time about 5 days after delivery (gamma, mean 5); the forgetful a day after
    # the nudge (exponential); the late about 12 days after the due date (log-normal).
    gamma, expon, lognorm = stats.gamma(a=2.0, scale=2.5), stats.expon(), stats.lognorm(0.6, 0, 12)
    return (
        #    name            share anchor      delay    opens watch75 click complain
        Kind("on_time",      0.45, "delivery", gamma,   0.80, 0.45,   0.55, 0.002),
        Kind("forgetful",    0.25, "nudge",    expon,   0.60, 0.35,   0.50, 0.004),
        Kind("chronic_late", 0.20, "due",      lognorm, 0.50, 0.20,   0.25, 0.010),
        Kind("never",        0.10, "due",      None,    0.25, 0.05,   0.03, 0.030),
    )  # fmt: skip


@dataclass(frozen=True)
class Bills:
    """How each drawn bill will be met; arrays of one entry per bill (any shape)."""

    kind: np.ndarray  # the payer's kind, an index into Population.kinds
    delay: FloatArray  # days after the kind's anchor (inf: never pays)
    engage: FloatArray  # uniform draws (shape x 4) for opened, watched75, pay click, complained


@dataclass(frozen=True)
class Population:
    kinds: tuple[Kind, ...] = field(default_factory=_default_kinds)

    def __post_init__(self) -> None:
        if not self.kinds:
            raise ExperimentInputError("kinds", "at least one kind of payer")
        if not math.isclose(math.fsum(k.share for k in self.kinds), 1.0, abs_tol=1e-9):
            raise ExperimentInputError("kinds", "the shares must sum to 1")

    def draw_kinds(self, size: int | tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """The kind of each of `size` customers (any shape: experiments x customers, say)."""
        return rng.choice(len(self.kinds), size=size, p=np.array([k.share for k in self.kinds]))

    def draw(self, size: int | tuple[int, ...], rng: np.random.Generator) -> Bills:
        """One bill for each of `size` new bills."""
        return self.draw_bills(self.draw_kinds(size, rng), rng)

    def draw_bills(self, kind: np.ndarray, rng: np.random.Generator) -> Bills:
        """A bill for each entry of `kind`: a customer's bills share their kind, not their delay."""
        delay = np.full(kind.shape, np.inf)
        for i, k in enumerate(self.kinds):
            where = kind == i
            if k.delay is not None and where.any():
                delay[where] = k.delay.rvs(size=int(where.sum()), random_state=rng)
        return Bills(kind=kind, delay=delay, engage=rng.random((*kind.shape, 4)))

    def pay_days(
        self,
        bills: Bills,
        due_after_days: float | FloatArray,
        first_nudge_days: float | FloatArray | None,
    ) -> FloatArray:
        """Days from delivery to payment (inf: never) for bills due `due_after_days` after
        delivery and first nudged `first_nudge_days` after it (None: never nudged; the
        forgetful then pay like the chronically late)."""
        anchors = {
            "delivery": np.zeros(bills.kind.shape),
            "due": np.maximum(np.broadcast_to(due_after_days, bills.kind.shape), 0.0),
        }
        if first_nudge_days is None:
            anchors["nudge"] = anchors["due"] + _late_without_nudge(self)
        else:
            anchors["nudge"] = np.broadcast_to(first_nudge_days, bills.kind.shape)
        days = np.full(bills.kind.shape, np.inf)
        for i, k in enumerate(self.kinds):
            where = bills.kind == i
            days[where] = anchors[k.anchor][where] + bills.delay[where]
        return days

    def engagement(self, bills: Bills) -> dict[str, np.ndarray]:
        """Opened, watched 75 %, clicked pay, complained: booleans per bill."""
        table = np.array([[k.opens, k.watches75, k.clicks, k.complains] for k in self.kinds])
        p = table[bills.kind]
        u = bills.engage
        opened = u[..., 0] < p[..., 0]
        return {
            "opened": opened,
            "watched75": opened & (u[..., 1] < p[..., 1]),
            "pay_click": opened & (u[..., 2] < p[..., 2]),
            "complained": u[..., 3] < p[..., 3],
        }

    def paid_in_time_rate(self, due_after_days: float, first_nudge_days: float | None) -> float:
        """The expected share of bills paid by their due date, from the kinds' CDFs."""
        total = 0.0
        for k in self.kinds:
            if k.delay is None:
                continue
            anchor = {
                "delivery": 0.0,
                "due": max(due_after_days, 0.0),
                "nudge": (
                    max(due_after_days, 0.0) + _late_without_nudge(self)
                    if first_nudge_days is None
                    else first_nudge_days
                ),
            }[k.anchor]
            total += k.share * float(k.delay.cdf(due_after_days - anchor))
        return total


def _late_without_nudge(population: Population) -> float:
    # Unreminded, the forgetful remember about when the chronically late pay: the median delay
    # of the first kind anchored on the due date (15 days where there is none).
    for k in population.kinds:
        if k.anchor == "due" and k.delay is not None:
            return float(k.delay.median())
    return 15.0


@dataclass(frozen=True)
class Effect:
    """What an arm does to payment: `persuaded` of the bills that would miss their deadline
    pay before it instead, at a moment uniform between delivery and the deadline."""

    persuaded: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.persuaded <= 1.0:
            raise ExperimentInputError("persuaded", "must be a share between 0 and 1")

    @classmethod
    def for_lift(
        cls,
        population: Population,
        points: float,
        due_after_days: float,
        first_nudge_days: float | None,
    ) -> Effect:
        """The effect that raises the paid-in-time rate by `points` (0.05: five points)."""
        base = population.paid_in_time_rate(due_after_days, first_nudge_days)
        if not 0.0 <= points <= 1.0 - base:
            raise ExperimentInputError("points", f"must be between 0 and {1.0 - base:.3f}")
        return cls(persuaded=points / (1.0 - base))

    def apply(
        self, pay_days: FloatArray, deadline_days: float | FloatArray, rng: np.random.Generator
    ) -> FloatArray:
        """The days to pay once this arm's message has worked on them."""
        if self.persuaded == 0.0:
            return pay_days
        deadline = np.broadcast_to(np.asarray(deadline_days, dtype=np.float64), pay_days.shape)
        late = pay_days > deadline
        won = late & (rng.random(pay_days.shape) < self.persuaded)
        return np.where(won, rng.random(pay_days.shape) * np.maximum(deadline, 0.0), pay_days)


def bill_counts(
    size: int | tuple[int, ...], rng: np.random.Generator, p: Sequence[float]
) -> np.ndarray:
    """How many bills each customer gets in an experiment: 1 with p[0], 2 with p[1], ..."""
    return rng.choice(np.arange(1, len(p) + 1), size=size, p=np.asarray(p))


BILLING_CYCLE_DAYS = 30


def simulate_records(
    population: Population,
    experiment_id: str,
    arms: Sequence[Arm],
    effects: Mapping[str, Effect],
    customers: int,
    rng: np.random.Generator,
    start: datetime,
    due_after_days: float = 10.0,
    first_nudge_days: float | None = 7.0,
    bills_per_customer: Sequence[float] = (1.0,),
) -> list[BillRecord]:
    """An experiment's bills from synthetic customers, assigned by the real `assign`.

    Customer i's j-th bill is delivered j billing cycles after `start` (plus up to a day,
    as a run is sent), due `due_after_days` later, nudged first `first_nudge_days` after
    delivery; `effects[arm]` is what that arm's message does (none where absent).
    """
    if start.utcoffset() is None:
        raise ExperimentInputError("start", "must be a timezone-aware datetime")
    ids = [f"sim-{i:07d}" for i in range(customers)]
    arm_of = np.array([assign(experiment_id, c, arms) for c in ids])
    counts = bill_counts(customers, rng, bills_per_customer)
    owner = np.repeat(np.arange(customers), counts)
    cycle = np.concatenate([np.arange(n) for n in counts]) if customers else np.zeros(0, int)
    kinds = population.draw_kinds(customers, rng)
    bills = population.draw_bills(kinds[owner], rng)
    days = population.pay_days(bills, due_after_days, first_nudge_days)
    for arm in arms:
        effect = effects.get(arm.name)
        if effect is not None:
            where = arm_of[owner] == arm.name
            days[where] = effect.apply(days[where], due_after_days, rng)
    engaged = population.engagement(bills)
    sent = rng.random(owner.shape)  # when in its day the run reached this bill
    amounts = np.round(rng.lognormal(mean=4.0, sigma=0.5, size=owner.shape), 2)
    records = []
    for b, i in enumerate(owner):
        delivered = start + timedelta(days=BILLING_CYCLE_DAYS * int(cycle[b]) + float(sent[b]))
        due = (delivered + timedelta(days=due_after_days)).date()
        paid = delivered + timedelta(days=float(days[b])) if np.isfinite(days[b]) else None
        records.append(
            BillRecord(
                customer_id=ids[i],
                arm=str(arm_of[i]),
                due_on=due,
                delivered_at=delivered,
                paid_at=paid,
                amount=Decimal(f"{amounts[b]:.2f}"),
                opened=bool(engaged["opened"][b]),
                watched75=bool(engaged["watched75"][b]),
                pay_click=bool(engaged["pay_click"][b]),
                complained=bool(engaged["complained"][b]),
            )
        )
    return records
