"""One simulated run through the service, and the ground truth beside its report.

1. Versions, a journey and an experiment, through the API: control is the template's
   published version, treatment a copy of it made as a draft and published-able (then the
   first is published again, as a rollback leaves them), an optional hold-out.
2. A billing run (`POST /v1/batches`) of one bill per drawn customer, on the journey, due
   `due_days` after the run in the customer's time zone; its renders run at once.
3. The clock moves by `step_hours` up to the horizon. In each step: first the payments
   whose moment has come (the clock at each one's moment, and it as `paid_at`), then at the
   step's end the scheduler's tick and the renders it started. Every render's arm is what
   the service reports (the version it pinned); a skewed run never runs that share of the
   treatment arm's customers' renders.
4. The experiment's report and the run's figures are read from the API; the ground truth is
   `analysis.judge` over what the simulator itself delivered and was paid, arm by arm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from app.experiments.analysis import judge
from app.experiments.arms import Arm, ExperimentInputError
from app.experiments.assignment import assign
from app.experiments.population import Effect, Population
from app.experiments.records import DEFAULT_OVERDUE_WINDOW_DAYS, BillRecord
from app.experiments.summary import summarize
from app.simulation import design
from app.simulation.bills import ndjson, render_request
from app.simulation.calls import Service, SimulationInputError
from app.simulation.design import CONTROL, HOLDOUT, TREATMENT
from app.simulation.payers import Payer, draw_payers, late_without_reminder_days

SEND_AT = time(10, 0)  # the journey's local time for a step (its default)
DEFAULT_START = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)  # a Monday far from a clock change
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Config:
    customers: int = 500
    seed: int = 1
    lift_points: float = 0.0  # planted in the treatment arm: 5.0 is five points
    skew: float = 0.0  # share of the treatment arm's customers whose renders never run
    holdout: bool = False
    outputs: tuple[str, ...] = ("microsite",)
    steps: tuple[int, ...] = (-3, 1, 7)  # the journey's steps, days from the due date
    due_days: int = 10
    days: int | None = None  # how far the clock moves; None: until every deadline has passed
    step_hours: float = 1.0
    start: datetime = DEFAULT_START
    time_zone: str = "Europe/Rome"
    treatment: str | None = None  # NAME@N to use; None: a copy of the published version

    def check(self) -> None:
        if self.customers < 1:
            raise SimulationInputError("customers", "at least 1")
        if not 0.0 <= self.skew <= 1.0:
            raise SimulationInputError("skew", "a share between 0 and 1")
        if not self.steps or list(self.steps) != sorted(set(self.steps)):
            raise SimulationInputError("steps", "one or more days from the due date, rising")
        if not set(self.outputs) <= {"video", "microsite"} or not self.outputs:
            raise SimulationInputError("outputs", "video and/or microsite")
        if self.due_days < 1 or (self.days is not None and self.days < 0):
            raise SimulationInputError("days", "due_days >= 1 and days >= 0")
        if not 0 < self.step_hours <= 24:
            raise SimulationInputError("step_hours", "more than 0, at most 24")
        if self.start.utcoffset() is None:
            raise SimulationInputError("start", "a timezone-aware moment")
        ZoneInfo(self.time_zone)

    def horizon_days(self) -> int:
        """Days until the last step's bill has passed its deadline (a step delivered after
        the due date is an overdue bill: `overdue_window_days` after it)."""
        if self.days is not None:
            return self.days
        last = max(self.steps)
        return self.due_days + (last + DEFAULT_OVERDUE_WINDOW_DAYS if last > 0 else 0) + 2


@dataclass
class Delivered:
    render_id: str
    customer_id: str
    arm: str  # the simulator's truth: the design's assignment
    version: str  # what the service reported it pinned
    at: datetime


@dataclass
class Result:
    config: Config
    experiment_id: str
    batch_id: str
    versions: dict[str, str | None]
    truth: dict[str, Any]  # what was planted and drawn
    report: dict[str, Any]  # GET /v1/experiments/{id}'s report
    ground_truth: dict[str, Any]  # the same report, by `judge` over the simulator's own log
    figures: dict[str, Any]  # GET /v1/figures?batch=
    lost_renders: int = 0
    misplaced: int = 0  # renders whose version is not their customer's arm's
    delivered: list[Delivered] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "experiment_id": self.experiment_id, "batch_id": self.batch_id,
            "versions": self.versions, "truth": self.truth,
            "renders_never_run": self.lost_renders, "renders_misplaced": self.misplaced,
            "report": self.report, "ground_truth": self.ground_truth, "figures": self.figures,
        }  # fmt: skip


Progress = Callable[[str], None]


def simulate(config: Config, service: Service, progress: Progress | None = None) -> Result:
    """Run `config` through `service`; its report, figures and ground truth."""
    config.check()
    if config.skew and not service.can_skew:
        raise SimulationInputError("skew", "needs a service whose renders the run runs itself")
    return _Run(config, service, progress or (lambda _text: None)).result()


class _Run:
    """One run's state: what was planted, drawn, delivered and paid."""

    def __init__(self, config: Config, service: Service, say: Progress):
        self.config, self.service, self.say = config, service, say
        self.population = Population()
        self.zone = ZoneInfo(config.time_zone)
        start_local = config.start.astimezone(self.zone)
        self.issued_on = start_local.date()
        self.due_on = self.issued_on + timedelta(days=config.due_days)
        self.deadline = datetime.combine(self.due_on + DAY, time(0), tzinfo=self.zone)
        first_step = datetime.combine(self.due_on + config.steps[0] * DAY, SEND_AT, self.zone)
        self.due_after, self.first_nudge = (
            (t - config.start) / DAY for t in (self.deadline, first_step)
        )
        try:
            self.effect = Effect.for_lift(
                self.population, config.lift_points / 100.0, self.due_after, self.first_nudge
            )
        except ExperimentInputError:  # more points than the first bills that miss leave
            most = 100 * (1 - self.population.paid_in_time_rate(self.due_after, self.first_nudge))
            raise SimulationInputError("lift", f"at most {most:.1f} points here") from None
        self.payers = draw_payers(self.population, config.customers, rng(config.seed))
        self.by_customer = {p.customer_id: p for p in self.payers}
        lost = rng([config.seed, 1]).random(len(self.payers))  # the same payers either way
        self.lost_draw = dict(zip(self.by_customer, lost, strict=True))
        self.late_days = late_without_reminder_days(self.population)
        self.delivered: list[Delivered] = []
        self.lost = self.misplaced = 0

    def result(self) -> Result:
        self.service.move_clock(self.config.start)
        self.versions = design.versions(self.service, self.config.holdout, self.config.treatment)
        design.journey(self.service, self.config.steps, self.config.outputs, self.config.time_zone)
        self.experiment = design.experiment(self.service, self.versions)
        self.arms = [Arm(a["name"], a["weight"], a["holdout"]) for a in self.experiment["arms"]]
        self.arm_of_version = {v: n for n, v in self.versions.items() if n != HOLDOUT and v}
        self.truth_arm = {c: assign(self.experiment["id"], c, self.arms) for c in self.by_customer}
        self.batch_id = self._submit()
        for customer in self.by_customer:
            self._deliver(self.bill_render[customer], first=True)
        self.say(f"day 0: {len(self.delivered)} bills delivered")
        self._advance()
        report = self.service.call("GET", f"/v1/experiments/{self.experiment['id']}")["report"]
        figures = self.service.call("GET", f"/v1/figures?batch={self.batch_id}")
        return Result(
            self.config, self.experiment["id"], self.batch_id, self.versions, self._truth(),
            report, self._ground_truth(datetime.fromisoformat(report["as_of"])), figures,
            self.lost, self.misplaced, self.delivered,
        )  # fmt: skip

    def _submit(self) -> str:
        """The billing run, one bill per customer on the journey; its id."""
        lines = [
            render_request(p, issued_on=self.issued_on, due_on=self.due_on,
                           time_zone=self.config.time_zone, journey=design.JOURNEY,
                           outputs=self.config.outputs, number=i + 1)
            for i, p in enumerate(self.payers)
        ]  # fmt: skip
        accepted = self.service.call("POST", "/v1/batches", ndjson=ndjson(lines))
        if accepted["rejected"]:
            raise SimulationInputError("bills", f"the service rejected {accepted['rejected'][:3]}")
        results = self.service.call("GET", f"/v1/batches/{accepted['id']}/results")
        self.bill_render = {r["customer_id"]: r["id"] for r in results}
        self.service.watch(list(self.bill_render.values()))
        self.say(f"billing run {accepted['id']}: {len(results)} bills accepted")
        batch_id: str = accepted["id"]
        return batch_id

    def _deliver(self, render_id: str, first: bool) -> None:
        """Run a render unless the skew loses it; what its customer was sent, in which arm."""
        body = self.service.call("GET", f"/v1/renders/{render_id}")
        customer, version = body["customer_id"], body["template"]
        reported_arm = self.arm_of_version.get(version)
        if reported_arm == TREATMENT and self.lost_draw[customer] < self.config.skew:
            self.lost += 1  # the fleet never runs it: it never reaches the customer
            return
        status, at = self.service.render(render_id)
        if status != "done" or at is None:
            return
        payer, arm = self.by_customer[customer], self.truth_arm[customer]
        self.misplaced += version != (self.versions[arm] or self.versions[CONTROL])
        self.delivered.append(Delivered(render_id, customer, arm, version, at))
        if first:
            payer.delivered_at, payer.deadline = at, self.deadline
            payer.persuaded_share = self.effect.persuaded if reported_arm == TREATMENT else 0.0
        elif payer.first_reminder_at is None:
            payer.first_reminder_at = at

    def _advance(self) -> None:
        """Move the clock to the horizon, a step at a time: the payments due by the step's
        end, each with the clock at its moment (a scheduler running on its own then decides
        every step due before it first, and none after it), then the tick at the end."""
        start, step = self.config.start, timedelta(hours=self.config.step_hours)
        end = start + timedelta(days=self.config.horizon_days())
        moment, unpaid = start, list(self.payers)
        while moment < end:
            last, moment = moment, min(moment + step, end)
            due = sorted(
                (at, i) for i, p in enumerate(unpaid)
                if (at := p.pays_at(self.late_days)) is not None and at <= moment
            )  # fmt: skip
            for at, i in due:
                last = max(last, at)  # the clock never goes back
                self.service.move_clock(last)
                self._pay(unpaid[i], at)
            self.service.move_clock(moment)
            paid = {i for _, i in due}
            unpaid = [p for i, p in enumerate(unpaid) if i not in paid]
            for render_id in self.service.tick():
                self._deliver(render_id, first=False)
            if (moment - start) % DAY == timedelta(0):
                self.say(f"day {(moment - start) // DAY}: {len(self.delivered)} renders "
                         f"delivered, {len(self.payers) - len(unpaid)} paid")  # fmt: skip

    def _pay(self, payer: Payer, at: datetime) -> None:
        self.service.call("POST", f"/v1/renders/{self.bill_render[payer.customer_id]}/payments", {
            "paid_at": at.astimezone(UTC).isoformat(), "amount": payer.amount,
            "currency": "EUR", "reference": f"pay-{payer.customer_id}",
        })  # fmt: skip
        payer.paid_at = at

    def _ground_truth(self, as_of: datetime) -> dict[str, Any]:
        records = _records(self.delivered, self.by_customer, self.due_on, self.zone)
        with np.errstate(invalid="ignore", divide="ignore"):  # an arm without data yet is 0/0
            report = judge(self.experiment["id"], self.arms, records, as_of, control=CONTROL,
                           overdue_window_days=self.experiment["overdue_window_days"])  # fmt: skip
            return summarize(report, self.versions).as_dict()

    def _truth(self) -> dict[str, Any]:
        arms = list(self.truth_arm.values())
        return {
            "customers": self.config.customers,
            "seed": self.config.seed,
            "lift_points": self.config.lift_points,
            "persuaded_share": self.effect.persuaded,
            "expected_control_rate": self.population.paid_in_time_rate(
                self.due_after, self.first_nudge
            ),
            "skew": self.config.skew,
            "customers_by_arm": {a.name: arms.count(a.name) for a in self.arms},
            "kinds": {
                k.name: sum(p.kind == k.name for p in self.payers) for k in self.population.kinds
            },
            "paid": sum(p.paid_at is not None for p in self.payers),
        }


def rng(seed: int | list[int]) -> np.random.Generator:
    return np.random.default_rng(seed)


def _records(
    delivered: list[Delivered], payers: dict[str, Payer], due_on: date, zone: ZoneInfo
) -> list[BillRecord]:
    """Each customer's one bill, delivered at the first of its renders the simulator saw
    delivered (its reminders are the same bill, as the service counts them), paid when its
    customer paid."""
    first: dict[str, Delivered] = {}
    for d in sorted(delivered, key=lambda d: d.at):
        first.setdefault(d.customer_id, d)
    return [
        BillRecord(
            customer_id=d.customer_id,
            arm=d.arm,
            due_on=due_on,
            delivered_at=d.at.astimezone(zone),
            paid_at=payer.paid_at.astimezone(zone) if payer.paid_at else None,
            amount=Decimal(payer.amount),
            complained=None,
        )
        for d in first.values()
        for payer in [payers[d.customer_id]]
    ]
