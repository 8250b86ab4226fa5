"""One simulated run through the service, and the ground truth beside its report.

1. Versions, a journey and an experiment, through the API: control is the template's
   published version, treatment a copy of it made as a draft and published-able (then the
   first is published again, as a rollback leaves them), an optional hold-out.
2. A billing run (`POST /v1/batches`) of one bill per drawn customer, on the journey, due
   `due_days` after the run in the customer's time zone; its renders run at once.
3. The clock moves by `step_hours` up to the horizon. At each moment: first the payments
   whose moment has come (each with its exact `paid_at`), then the scheduler's tick and the
   renders it started. Every render's arm is what the service reports (the version it
   pinned); a skewed run never runs that share of the treatment arm's customers' renders.
4. The experiment's report and the run's figures are read from the API; the ground truth is
   `analysis.judge` over what the simulator itself delivered and was paid, arm by arm.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np

from app.experiments.analysis import judge
from app.experiments.arms import Arm, ExperimentInputError
from app.experiments.assignment import assign
from app.experiments.population import Effect, Population
from app.experiments.records import DEFAULT_OVERDUE_WINDOW_DAYS, BillRecord
from app.experiments.summary import summarize
from app.simulation.bills import TEMPLATE, ndjson, render_request
from app.simulation.payers import Payer, draw_payers, late_without_reminder_days

JOURNEY = "simulated-collection"
SEND_AT = time(10, 0)  # the journey's local time for a step (its default)
CONTROL, TREATMENT, HOLDOUT = "control", "treatment", "holdout"
DEFAULT_START = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)  # a Monday far from a clock change
DAY = timedelta(days=1)
STEP_NAMES = {-3: "friendly reminder", 1: "nudge", 7: "firm, with instalments"}


class Service(Protocol):
    """The service a run goes through (`service.EmbeddedService`, `remote.RemoteService`)."""

    can_skew: bool  # whether the run may keep renders from running

    def call(
        self, method: str, path: str, body: Any = None, *, ndjson: bytes | None = None
    ) -> Any: ...
    def now(self) -> datetime: ...
    def move_clock(self, to: datetime) -> None: ...
    def watch(self, bill_render_ids: Sequence[str]) -> None: ...
    def tick(self) -> list[str]: ...
    def render(self, render_id: str) -> tuple[str, datetime | None]: ...
    def publish_version(self, template: str, number: int) -> None: ...


class SimulationInputError(ValueError):
    def __init__(self, field: str, detail: str):
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail


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
    config.check()
    if config.skew and not service.can_skew:
        raise SimulationInputError("skew", "needs a service whose renders the run runs itself")
    say = progress or (lambda _text: None)
    population = Population()
    rng = np.random.default_rng(config.seed)
    lost_rng = np.random.default_rng([config.seed, 1])  # the skew draws: same payers either way
    zone = ZoneInfo(config.time_zone)

    start_local = config.start.astimezone(zone)
    due_on = start_local.date() + timedelta(days=config.due_days)
    deadline = datetime.combine(due_on + timedelta(days=1), time(0), tzinfo=zone)
    first_step = datetime.combine(due_on + timedelta(days=config.steps[0]), SEND_AT, tzinfo=zone)
    due_after, first_nudge = ((t - config.start) / DAY for t in (deadline, first_step))
    try:
        effect = Effect.for_lift(population, config.lift_points / 100.0, due_after, first_nudge)
    except ExperimentInputError:  # more points than the first bills that miss leave
        most = 100 * (1 - population.paid_in_time_rate(due_after, first_nudge))
        raise SimulationInputError("lift", f"at most {most:.1f} points here") from None
    service.move_clock(config.start)
    versions = _versions(service, config.holdout, config.treatment)
    _journey(service, config)
    experiment = _experiment(service, versions)
    arms = [Arm(a["name"], a["weight"], a["holdout"]) for a in experiment["arms"]]
    arm_of_version = {v: name for name, v in versions.items() if name != HOLDOUT and v}

    payers = draw_payers(population, config.customers, rng)
    by_customer = {p.customer_id: p for p in payers}
    lost_draw = dict(zip(by_customer, lost_rng.random(len(payers)), strict=True))
    late_days = late_without_reminder_days(population)

    truth_arm = {p.customer_id: assign(experiment["id"], p.customer_id, arms) for p in payers}
    lines = [
        render_request(p, issued_on=start_local.date(), due_on=due_on, time_zone=config.time_zone,
                       journey=JOURNEY, outputs=config.outputs, number=i + 1)
        for i, p in enumerate(payers)
    ]  # fmt: skip
    accepted = service.call("POST", "/v1/batches", ndjson=ndjson(lines))
    if accepted["rejected"]:
        raise SimulationInputError("bills", f"the service rejected {accepted['rejected'][:3]}")
    batch_id = accepted["id"]
    results = service.call("GET", f"/v1/batches/{batch_id}/results")
    bill_render = {r["customer_id"]: r["id"] for r in results}
    service.watch(list(bill_render.values()))
    say(f"billing run {batch_id}: {len(results)} bills accepted")

    delivered: list[Delivered] = []
    lost = misplaced = 0

    def deliver(render_id: str, first: bool) -> None:
        nonlocal lost, misplaced
        body = service.call("GET", f"/v1/renders/{render_id}")
        customer, version = body["customer_id"], body["template"]
        reported_arm = arm_of_version.get(version)
        if reported_arm == TREATMENT and lost_draw[customer] < config.skew:
            lost += 1  # the fleet never runs it: it never reaches the customer
            return
        status, at = service.render(render_id)
        if status != "done" or at is None:
            return
        payer = by_customer[customer]
        expected = versions[truth_arm[customer]] or versions[CONTROL]  # a hold-out: control's
        misplaced += version != expected
        delivered.append(Delivered(render_id, customer, truth_arm[customer], version, at))
        if first:
            payer.delivered_at, payer.deadline = at, deadline
            payer.persuaded_share = effect.persuaded if reported_arm == TREATMENT else 0.0
        elif payer.first_reminder_at is None:
            payer.first_reminder_at = at

    for customer in by_customer:
        deliver(bill_render[customer], first=True)
    say(f"day 0: {len(delivered)} bills delivered")

    step = timedelta(hours=config.step_hours)
    end = config.start + timedelta(days=config.horizon_days())
    moment = config.start
    unpaid = list(payers)
    while moment < end:
        moment = min(moment + step, end)
        service.move_clock(moment)
        due = sorted(
            ((at, p) for p in unpaid if (at := p.pays_at(late_days)) is not None and at <= moment),
            key=lambda pair: pair[0],
        )
        for at, payer in due:
            service.call("POST", f"/v1/renders/{bill_render[payer.customer_id]}/payments", {
                "paid_at": at.astimezone(UTC).isoformat(), "amount": payer.amount,
                "currency": "EUR", "reference": f"pay-{payer.customer_id}",
            })  # fmt: skip
            payer.paid_at = at
        paid_now = {id(p) for _, p in due}
        unpaid = [p for p in unpaid if id(p) not in paid_now]
        for render_id in service.tick():
            deliver(render_id, first=False)
        if (moment - config.start) % timedelta(days=1) == timedelta(0):
            day = (moment - config.start) // timedelta(days=1)
            say(f"day {day}: {len(delivered)} renders delivered, {len(payers) - len(unpaid)} paid")

    got = service.call("GET", f"/v1/experiments/{experiment['id']}")
    report = got["report"]
    figures = service.call("GET", f"/v1/figures?batch={batch_id}")
    as_of = datetime.fromisoformat(report["as_of"])
    records = _records(delivered, by_customer, due_on, zone)
    with np.errstate(invalid="ignore", divide="ignore"):  # an arm without data yet is 0/0
        ground = summarize(
            judge(experiment["id"], arms, records, as_of, control=CONTROL,
                  overdue_window_days=experiment["overdue_window_days"]),
            versions,
        ).as_dict()  # fmt: skip
    truth = {
        "customers": config.customers,
        "seed": config.seed,
        "lift_points": config.lift_points,
        "persuaded_share": effect.persuaded,
        "expected_control_rate": population.paid_in_time_rate(due_after, first_nudge),
        "skew": config.skew,
        "customers_by_arm": {
            a.name: sum(1 for c in truth_arm.values() if c == a.name) for a in arms
        },
        "kinds": {k.name: sum(1 for p in payers if p.kind == k.name) for k in population.kinds},
        "paid": sum(1 for p in payers if p.paid_at is not None),
    }
    return Result(config, experiment["id"], batch_id, versions, truth, report, ground,
                  figures, lost, misplaced, delivered)  # fmt: skip


def _records(
    delivered: list[Delivered], payers: dict[str, Payer], due_on: date, zone: ZoneInfo
) -> list[BillRecord]:
    """Every render the simulator saw delivered is a bill of the experiment (as the service
    counts a journey step's render too), paid when its customer paid."""
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
        for d in delivered
        for payer in [payers[d.customer_id]]
    ]


def _versions(service: Service, holdout: bool, treatment: str | None) -> dict[str, str | None]:
    """Control: the published version; treatment: the one named, or a copy of control made
    a draft, published and rolled back (so control stays the published one)."""
    published = service.call("GET", f"/v1/templates/{TEMPLATE}/versions")
    current = next(v for v in published["data"] if v["state"] == "published")
    control = f"{TEMPLATE}@{current['number']}"
    if treatment is not None:
        if treatment == control or not treatment.startswith(f"{TEMPLATE}@"):
            raise SimulationInputError("treatment", f"another version of {TEMPLATE}: NAME@N")
        chosen: dict[str, str | None] = {CONTROL: control, TREATMENT: treatment}
        if holdout:
            chosen[HOLDOUT] = None
        return chosen
    draft = service.call("POST", f"/v1/templates/{TEMPLATE}/versions", {
        "from": current["number"], "message": "simulation: the treatment arm",
    })  # fmt: skip
    service.publish_version(TEMPLATE, draft["number"])
    service.publish_version(TEMPLATE, current["number"])
    versions: dict[str, str | None] = {
        CONTROL: f"{TEMPLATE}@{current['number']}",
        TREATMENT: f"{TEMPLATE}@{draft['number']}",
    }
    if holdout:
        versions[HOLDOUT] = None
    return versions


def _journey(service: Service, config: Config) -> None:
    steps = []
    for offset in config.steps:
        step: dict[str, Any] = {
            "name": STEP_NAMES.get(offset, f"{offset:+d} days"),
            "offset_days": offset,
            "template": TEMPLATE,
            "outputs": list(config.outputs),
        }
        if offset == 7:
            step["tone"] = "firm"
        steps.append(step)
    service.call("POST", f"/v1/journeys/{JOURNEY}/versions", {
        "description": "Simulated soft collection", "time_zone": config.time_zone,
        "steps": steps,
    })  # fmt: skip


def _experiment(service: Service, versions: dict[str, str | None]) -> dict[str, Any]:
    arms = [
        {"name": name, "holdout": True} if version is None else {"name": name, "version": version}
        for name, version in versions.items()
    ]
    made = service.call("POST", "/v1/experiments", {
        "name": "Simulated: control against treatment", "template": TEMPLATE, "arms": arms,
        "control": CONTROL,
    })  # fmt: skip
    started: dict[str, Any] = service.call("POST", f"/v1/experiments/{made['id']}/start")
    return started
