"""The scheduler: takes due steps from the database, decides each, makes the renders of
those that go and enqueues them.

One tick is one transaction. It takes up to `scheduler_batch_steps` due steps: on
PostgreSQL with `SELECT ... FOR UPDATE SKIP LOCKED`, so schedulers running at once take
disjoint steps; on SQLite, which runs one writer at a time, with a conditional UPDATE
that takes its write lock first. A step taken is decided before the commit:

- its journey has stopped: skipped with the stop's reason (a payment usually gets there
  first and skips it itself);
- past its window (`window_ends_at`: its grace, never after the next step): skipped, late;
- in the customer's quiet hours (a step missed overnight): deferred to their end;
- the customer's contact limit is reached (over all their bills): deferred until a
  contact ages out of the window, or skipped when that is too late;
- otherwise it starts: its render is inserted, pinned to the template version published
  now (or the one the step names, or its experiment arm's: `app.experiments.placement`)
  with the step's tone forced, in one INSERT ... SELECT per template version.

The commit makes it all true at once; a crash before it leaves every step scheduled, as if
the tick never ran (on SQLite a step is marked `claimed` inside the transaction, a state
nobody else ever sees). The renders are enqueued after the commit: if Redis is away they wait
in the database, `queued`, and the sweeper enqueues them (`app.rendering.sweeper`).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, DateTime, Integer, String, insert, literal, null, select, update
from sqlalchemy.orm import Session, aliased

from app.experiments.placement import Placement, Placer, names_a_version
from app.infra.database import BillJourney, JourneyStep, Render, as_utc, utcnow
from app.journeys.contacts import lock_customers, next_free, recent_contacts
from app.journeys.ledger import among, complete_finished, record, record_steps
from app.journeys.model import JourneyDefinition, definition_of
from app.journeys.store import version_by_id
from app.journeys.timing import out_of_quiet_hours, zone
from app.templates.lookup import find_version
from app.templates.store import VersionInfo as TemplateVersion
from app.templates.store import VersionNotFound

if TYPE_CHECKING:
    from app.infra.queue import Priority, RenderQueue
    from app.infra.services import Services

log = logging.getLogger(__name__)

RENDER_PRIORITY: Priority = "batch"  # reminders wait behind on-demand renders, like a run


@dataclass(frozen=True)
class _Due:
    id: str
    bill_journey_id: str
    position: int
    account: str
    customer_id: str
    template: str
    render_id: str
    due_at: datetime
    window_ends_at: datetime
    journey_status: str
    stop_reason: str | None
    time_zone: str
    version_id: str


@dataclass
class TickResult:
    claimed: int = 0
    started: list[str] = field(default_factory=list)  # the new renders' ids
    deferred: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # by reason
    enqueued: int = 0


@dataclass
class _Plan:
    go: dict[str, list[_Due]] = field(default_factory=lambda: defaultdict(list))  # by template
    defer: list[tuple[_Due, datetime, str]] = field(default_factory=list)
    skip: dict[str, list[_Due]] = field(default_factory=lambda: defaultdict(list))  # by reason


_definitions: dict[str, JourneyDefinition] = {}  # versions never change: kept per process
_names: dict[str, str] = {}  # journey version id -> the journey's name
_definitions_lock = threading.Lock()


def _definition(session: Session, version_id: str) -> JourneyDefinition:
    found = _definitions.get(version_id)
    if found is None:
        found = definition_of(version_by_id(session, version_id)[2])
        with _definitions_lock:
            _definitions[version_id] = found
    return found


def tick(
    services: Services, queue: RenderQueue | None, *, now: datetime | None = None
) -> TickResult:
    """Take, decide and start one batch of due steps; enqueue their renders after commit."""
    now = now or utcnow()
    result = TickResult()
    with services.db.session() as session:
        due = _claim(session, now, services.settings.scheduler_batch_steps)
        result.claimed = len(due)
        if not due:
            return result
        lock_customers(session, [(d.account, d.customer_id) for d in due])
        plan = _decide(session, due, now)
        result.started = _apply(services, session, plan, now, result)
    if result.started and queue is not None:
        try:
            queue.enqueue_many(result.started, RENDER_PRIORITY)
            result.enqueued = len(result.started)
        except Exception:  # Redis away: the renders are queued in the database, swept later
            log.exception("journey renders not enqueued", extra={"count": len(result.started)})
    if result.claimed:
        log.info(
            "journey steps decided",
            extra={
                "claimed": result.claimed,
                "started": len(result.started),
                "deferred": result.deferred,
                "skipped": sum(result.skipped.values()),
            },
        )
    return result


def _claim(session: Session, now: datetime, limit: int) -> list[_Due]:
    """Take up to `limit` due steps for this transaction and read what deciding them needs.

    PostgreSQL locks them (`FOR UPDATE SKIP LOCKED`: another scheduler takes others). SQLite
    has no row locks: there they are marked `claimed` by an UPDATE first, which takes the
    database's one write lock, and only this transaction ever sees that state.
    """
    due = (JourneyStep.status == "scheduled") & (JourneyStep.due_at <= now)
    # In the order of the (status, due_at) index, so the scan stops after `limit` rows.
    taken = select(JourneyStep.id).where(due).order_by(JourneyStep.due_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(taken.with_for_update(skip_locked=True)))
    else:
        ids = list(
            session.scalars(
                update(JourneyStep)
                .where(JourneyStep.id.in_(taken.scalar_subquery()))
                .values(status="claimed")
                .returning(JourneyStep.id)
                .execution_options(synchronize_session=False)
            )
        )
    if not ids:
        return []
    mine = among(session, JourneyStep.id, ids)
    steps = session.execute(
        select(
            JourneyStep.id,
            JourneyStep.bill_journey_id,
            JourneyStep.position,
            JourneyStep.account,
            JourneyStep.customer_id,
            JourneyStep.template,
            JourneyStep.render_id,
            JourneyStep.due_at,
            JourneyStep.window_ends_at,
        ).where(mine)
    ).all()
    # The journeys by their ids, apart: an indexed lookup, never a join over all journeys.
    journeys = {
        row[0]: row[1:]
        for row in session.execute(
            select(
                BillJourney.id,
                BillJourney.status,
                BillJourney.stop_reason,
                BillJourney.time_zone,
                BillJourney.journey_version_id,
            ).where(among(session, BillJourney.id, sorted({r[1] for r in steps})))
        )
    }
    rows = []
    for r in steps:
        status, stop_reason, time_zone, version_id = journeys[r[1]]
        step = _Due(
            id=r[0], bill_journey_id=r[1], position=r[2], account=r[3], customer_id=r[4],
            template=r[5], render_id=r[6], due_at=as_utc(r[7]), window_ends_at=as_utc(r[8]),
            journey_status=status, stop_reason=stop_reason, time_zone=time_zone,
            version_id=version_id,
        )  # fmt: skip
        rows.append(step)
    return sorted(rows, key=lambda d: (d.due_at, d.id))  # decided in the order they fell due


def _decide(session: Session, due: list[_Due], now: datetime) -> _Plan:
    plan = _Plan()
    definitions = {d.version_id: _definition(session, d.version_id) for d in due}
    longest = max(d.contact_limit.days for d in definitions.values())
    customers = [(d.account, d.customer_id) for d in due]
    contacts = recent_contacts(session, customers, now - timedelta(days=longest))
    for step in due:
        if step.journey_status != "active":
            plan.skip[step.stop_reason or "stopped"].append(step)
            continue
        if now > step.window_ends_at:
            plan.skip["late"].append(step)
            continue
        definition = definitions[step.version_id]
        tz = zone(step.time_zone)
        quiet_end = out_of_quiet_hours(now, tz, definition.quiet_hours)
        if quiet_end > now:
            _defer_or_skip(plan, step, quiet_end, "quiet_hours")
            continue
        limit = definition.contact_limit
        customer = (step.account, step.customer_id)
        free_at = next_free(contacts[customer], now, limit.contacts, limit.days)
        if free_at is not None:
            later = out_of_quiet_hours(free_at, tz, definition.quiet_hours)
            _defer_or_skip(plan, step, later, "contact_limit")
            continue
        plan.go[step.template].append(step)
        contacts[customer].append(now)  # the next step of this customer counts this one
    return plan


def _defer_or_skip(plan: _Plan, step: _Due, until: datetime, reason: str) -> None:
    if until <= step.window_ends_at:
        plan.defer.append((step, until, reason))
    else:
        plan.skip["late" if reason == "quiet_hours" else reason].append(step)


def _apply(
    services: Services, session: Session, plan: _Plan, now: datetime, result: TickResult
) -> list[str]:
    started: list[str] = []
    placer = Placer(session)
    placer.preload({s.account for steps in plan.go.values() for s in steps}, plan.go)
    for ref, steps in plan.go.items():
        try:
            version = find_version(services, ref)
        except (VersionNotFound, ValueError):
            log.warning("journey step's template is gone", extra={"steps": len(steps)})
            plan.skip["template_missing"].extend(steps)
            continue
        for placement, placed in _placed(session, placer, ref, steps).items():
            ids = [s.id for s in placed]
            version_id = placement.version_id if placement else version.id
            session.execute(
                update(JourneyStep)
                .where(among(session, JourneyStep.id, ids))
                .values(status="rendering", started_at=now, template_version_id=version_id)
                .execution_options(synchronize_session=False)
            )
            journeys = [s.bill_journey_id for s in placed]
            _insert_renders(session, ids, journeys, version, now, placement)
            record_steps(session, ids, "started", None, now)
            started += [s.render_id for s in placed]
    for step, until, reason in plan.defer:
        session.execute(
            update(JourneyStep)
            .where(JourneyStep.id == step.id)
            .values(status="scheduled", due_at=until)
            .execution_options(synchronize_session=False)
        )
        record(session, step.bill_journey_id, "deferred", now, step_id=step.id,
               position=step.position, reason=reason, until=until)  # fmt: skip
    result.deferred = len(plan.defer)
    finished: list[str] = []
    for reason, steps in plan.skip.items():
        ids = [s.id for s in steps]
        session.execute(
            update(JourneyStep)
            .where(among(session, JourneyStep.id, ids))
            .values(status="skipped", reason=reason, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        record_steps(session, ids, "skipped", reason, now)
        result.skipped[reason] += len(ids)
        finished += [s.bill_journey_id for s in steps]
    complete_finished(session, finished, now)
    return started


def _placed(
    session: Session, placer: Placer, ref: str, steps: list[_Due]
) -> dict[Placement | None, list[_Due]]:
    """The steps by the experiment arm their renders go in (None: in none), as at intake:
    a step naming NAME@N is in no experiment."""
    groups: dict[Placement | None, list[_Due]] = defaultdict(list)
    for step in steps:
        journey = None if names_a_version(ref) else _journey_name(session, step.version_id)
        placement = placer.place(step.account, ref, step.customer_id, journey, step.position)
        groups[placement].append(step)
    return groups


def _journey_name(session: Session, version_id: str) -> str:
    found = _names.get(version_id)
    if found is None:
        found = version_by_id(session, version_id)[0]
        with _definitions_lock:
            _names[version_id] = found
    return found


def _insert_renders(
    session: Session,
    step_ids: list[str],
    journey_ids: list[str],
    version: TemplateVersion,
    now: datetime,
    placement: Placement | None = None,
) -> None:
    """The steps' renders in one INSERT ... SELECT: the bill is copied from the bill's first
    render, the id and link token are the ones the step was scheduled with. In an
    experiment's arm they are pinned to its version and say so (a hold-out's make the
    microsite only)."""
    bill_render = aliased(Render)
    at = literal(now, DateTime(timezone=True))
    version_ref, version_id = version.ref, version.id
    outputs: Any = JourneyStep.outputs
    if placement is not None:
        version_ref, version_id = placement.version_ref, placement.version_id
        if placement.outputs is not None:
            outputs = literal(list(placement.outputs), JSON)
    columns = {
        "id": JourneyStep.render_id,
        "api_key_id": bill_render.api_key_id,
        "token": JourneyStep.token,
        "template": literal(version.template, String),
        "template_version": literal(version_ref, String),
        "template_version_id": literal(version_id, String),
        "experiment_id": literal(placement.experiment_id if placement else None, String),
        "experiment_arm": literal(placement.arm if placement else None, String),
        "outputs": outputs,
        "external_id": bill_render.external_id,
        "customer_id": bill_render.customer_id,
        "callback_url": null(),  # the step's own webhook, journey.step_ready, tells of it
        "bill": bill_render.bill,
        "status": literal("queued", String),
        "attempts": literal(0, Integer),
        "created_at": at,
        "updated_at": at,
        "tone": JourneyStep.tone,  # what analytics reports, as for any render
        "forced_tone": JourneyStep.tone,
    }
    rows = (
        select(*columns.values())
        .join(BillJourney, BillJourney.id == JourneyStep.bill_journey_id)
        .join(bill_render, bill_render.id == BillJourney.render_id)
        .where(
            among(session, JourneyStep.id, step_ids),
            # Named too, so the planner looks the journeys up by id instead of hashing all.
            among(session, BillJourney.id, sorted(set(journey_ids))),
        )
    )
    session.execute(insert(Render).from_select(list(columns), rows))


def run_scheduler(
    services: Services,
    queue: RenderQueue | None,
    stop_event: threading.Event,
    interval_seconds: float | None = None,
) -> None:
    """Tick until `stop_event` is set; a full batch goes again at once."""
    interval = (
        services.settings.scheduler_poll_seconds if interval_seconds is None else interval_seconds
    )
    while not stop_event.is_set():
        try:
            busy = tick(services, queue).claimed >= services.settings.scheduler_batch_steps
        except Exception:  # the database restarting: try again next interval
            log.exception("journey scheduler tick failed")
            busy = False
        if not busy:
            stop_event.wait(interval)


def start_scheduler(services: Services, queue: RenderQueue | None) -> threading.Event:
    """Run the scheduler in a daemon thread (embedded `billreel serve`); set the event to stop."""
    stop_event = threading.Event()
    thread = threading.Thread(
        target=run_scheduler, args=(services, queue, stop_event), name="journeys", daemon=True
    )
    thread.start()
    return stop_event
