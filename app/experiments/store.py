"""Experiments as rows: an account's experiments with their arms, and their life.

    draft ──start──▶ running ──stop──▶ stopped        (a draft may be stopped unstarted)

Only a running experiment takes renders (`placement`). At most one runs per account and
target (a template, or a template on one journey step): a partial unique index says so, so
two starts at once cannot both win and a render's arm is never ambiguous. A stopped
experiment does not start again: its customers' places would mean a new experiment with a
gap in it; make a new one instead. Its arms never change once made, because changing
weights or order moves customers between arms (`assignment`).

The versions an experiment's arms name are found by the caller (the API knows the
templates); this module keeps what it is handed, checked as a design (`arms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.experiments.arms import Arm, ExperimentInputError, check_arms, control_arm
from app.infra.database import Database, Experiment, ExperimentArm, as_utc, new_id, utcnow

State = Literal["draft", "running", "stopped"]
Metric = Literal["paid_in_time"]
METRICS: tuple[Metric, ...] = ("paid_in_time",)
MAX_NAME_CHARS = 200
MAX_ARM_NAME_CHARS = 40  # renders.experiment_arm
MAX_OVERDUE_WINDOW_DAYS = 120  # as far as a journey's steps reach past the due date
ANY_JOURNEY = ""  # `experiments.journey` of an experiment over every render of its template


class ExperimentNotFound(LookupError):
    """No experiment of this account with this id."""


class StateRefused(ValueError):
    """The experiment's state does not allow this (start a stopped one, say)."""


class AlreadyRunning(StateRefused):
    """Another experiment of the account runs on the same template (and step)."""


@dataclass(frozen=True)
class ArmSpec:
    """One arm as kept: a template version (id and NAME@N), or the hold-out (no version)."""

    name: str
    weight: float = 1.0
    holdout: bool = False
    version_id: str | None = None
    version_ref: str | None = None


@dataclass(frozen=True)
class ExperimentInfo:
    id: str
    account: str
    name: str
    template: str
    journey: str | None
    journey_step: int | None
    metric: Metric
    overdue_window_days: int
    control: str
    state: State
    winner: str | None
    author: str
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    arms: tuple[ArmSpec, ...]

    def design(self) -> list[Arm]:
        """The arms as the statistics take them, in the assignment's order."""
        return [Arm(a.name, a.weight, a.holdout) for a in self.arms]

    def versions(self) -> dict[str, str | None]:
        """Each arm's version, NAME@N (None: the hold-out)."""
        return {a.name: a.version_ref for a in self.arms}

    def arm(self, name: str) -> ArmSpec:
        return next(a for a in self.arms if a.name == name)

    @classmethod
    def of(cls, row: Experiment, arms: Sequence[ExperimentArm]) -> ExperimentInfo:
        return cls(
            id=row.id, account=row.account, name=row.name, template=row.template,
            journey=row.journey or None, journey_step=row.journey_step or None,
            metric=row.metric, overdue_window_days=row.overdue_window_days,  # type: ignore[arg-type]
            control=row.control, state=row.state, winner=row.winner,  # type: ignore[arg-type]
            author=row.author, created_at=as_utc(row.created_at),
            started_at=as_utc(row.started_at) if row.started_at else None,
            stopped_at=as_utc(row.stopped_at) if row.stopped_at else None,
            arms=tuple(
                ArmSpec(a.name, a.weight, a.holdout, a.template_version_id, a.template_version)
                for a in sorted(arms, key=lambda a: a.position)
            ),
        )  # fmt: skip


def check_design(
    name: str,
    arms: Sequence[ArmSpec],
    control: str | None,
    journey: str | None,
    journey_step: int | None,
    overdue_window_days: int,
) -> str:
    """Refuse a design that cannot run, naming the field; the control arm's name."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
        raise ExperimentInputError("name", f"must be 1 to {MAX_NAME_CHARS} characters")
    design = [Arm(a.name, a.weight, a.holdout) for a in arms]
    check_arms(design)
    for i, arm in enumerate(arms):
        if len(arm.name) > MAX_ARM_NAME_CHARS:
            raise ExperimentInputError(f"arms/{i}/name", f"at most {MAX_ARM_NAME_CHARS} characters")
        if arm.holdout and arm.version_id is not None:
            raise ExperimentInputError(
                f"arms/{i}/version", "the hold-out gets the plain microsite: it names no version"
            )
        if not arm.holdout and arm.version_id is None:
            raise ExperimentInputError(f"arms/{i}/version", "must name a template version")
    if (journey is None) != (journey_step is None):
        raise ExperimentInputError(
            "journey_step" if journey is not None else "journey",
            "a journey step is named by its journey and its position together",
        )
    if journey_step is not None and journey_step < 1:
        raise ExperimentInputError("journey_step", "positions count from 1")
    if not 1 <= overdue_window_days <= MAX_OVERDUE_WINDOW_DAYS:
        raise ExperimentInputError(
            "overdue_window_days", f"must be 1 to {MAX_OVERDUE_WINDOW_DAYS} days"
        )
    return control_arm(design, control).name


def create(
    db: Database,
    account: str,
    *,
    name: str,
    template: str,
    arms: Sequence[ArmSpec],
    control: str | None,
    author: str,
    journey: str | None = None,
    journey_step: int | None = None,
    overdue_window_days: int,
    metric: Metric = "paid_in_time",
) -> ExperimentInfo:
    """A new experiment, a draft: it takes no render until it is started."""
    control_name = check_design(name, arms, control, journey, journey_step, overdue_window_days)
    if metric not in METRICS:
        raise ExperimentInputError("metric", f"must be one of {', '.join(METRICS)}")
    with db.session() as session:
        row = Experiment(
            id=new_id("exp"), account=account, name=name.strip(), template=template,
            journey=journey or ANY_JOURNEY, journey_step=journey_step or 0, metric=metric,
            overdue_window_days=overdue_window_days, control=control_name, state="draft",
            author=author, created_at=utcnow(),
        )  # fmt: skip
        session.add(row)
        session.flush()  # the arms refer to it
        rows = [
            ExperimentArm(
                experiment_id=row.id,
                position=i,
                name=a.name,
                weight=float(a.weight),
                holdout=a.holdout,
                template_version_id=a.version_id,
                template_version=a.version_ref,
            )
            for i, a in enumerate(arms)
        ]
        session.add_all(rows)
        session.flush()
        return ExperimentInfo.of(row, rows)


def _arms(session: Session, ids: Sequence[str]) -> dict[str, list[ExperimentArm]]:
    found: dict[str, list[ExperimentArm]] = {i: [] for i in ids}
    if ids:
        for arm in session.scalars(
            select(ExperimentArm).where(ExperimentArm.experiment_id.in_(ids))
        ):
            found[arm.experiment_id].append(arm)
    return found


def load(session: Session, experiment_id: str, account: str | None = None) -> ExperimentInfo:
    """One experiment (of `account`, when given: another account's is not found)."""
    row = session.get(Experiment, experiment_id)
    if row is None or (account is not None and row.account != account):
        raise ExperimentNotFound(f"no experiment with id {experiment_id[:64]!r}")
    return ExperimentInfo.of(row, _arms(session, [row.id])[row.id])


def load_many(session: Session, ids: Sequence[str]) -> list[ExperimentInfo]:
    """These experiments, with their arms, in two queries."""
    if not ids:
        return []
    rows = list(session.scalars(select(Experiment).where(Experiment.id.in_(ids))))
    arms = _arms(session, [r.id for r in rows])
    return [ExperimentInfo.of(r, arms[r.id]) for r in rows]


def get(db: Database, account: str, experiment_id: str) -> ExperimentInfo:
    with db.session() as session:
        return load(session, experiment_id, account)


def list_experiments(db: Database, account: str) -> list[ExperimentInfo]:
    """The account's experiments, newest first."""
    with db.session() as session:
        rows = list(
            session.scalars(
                select(Experiment)
                .where(Experiment.account == account)
                .order_by(Experiment.created_at.desc(), Experiment.id)
            )
        )
        arms = _arms(session, [r.id for r in rows])
        return [ExperimentInfo.of(r, arms[r.id]) for r in rows]


def start(db: Database, account: str, experiment_id: str) -> ExperimentInfo:
    """Start a draft; starting a running one again changes nothing."""
    current = get(db, account, experiment_id)
    if current.state == "running":
        return current
    if current.state == "stopped":
        raise StateRefused("a stopped experiment does not start again: create a new one")
    try:
        with db.session() as session:
            session.execute(
                update(Experiment)
                .where(Experiment.id == experiment_id, Experiment.state == "draft")
                .values(state="running", started_at=utcnow())
            )
    except IntegrityError as exc:  # the partial unique index: one running per target
        target = current.template + (
            f" on step {current.journey_step} of journey {current.journey!r}"
            if current.journey
            else ""
        )
        raise AlreadyRunning(f"another experiment of this account runs on {target}") from exc
    return get(db, account, experiment_id)


def stop(db: Database, account: str, experiment_id: str) -> ExperimentInfo:
    """Stop it: renders accepted from now on are in no experiment; its figures stay."""
    get(db, account, experiment_id)
    with db.session() as session:
        session.execute(
            update(Experiment)
            .where(Experiment.id == experiment_id, Experiment.state != "stopped")
            .values(state="stopped", stopped_at=utcnow())
        )
    return get(db, account, experiment_id)


def record_winner(db: Database, account: str, experiment_id: str, arm: str) -> ExperimentInfo:
    """The arm whose version was published; the experiment is stopped by it."""
    get(db, account, experiment_id)
    now = utcnow()
    with db.session() as session:
        session.execute(
            update(Experiment)
            .where(Experiment.id == experiment_id, Experiment.state != "stopped")
            .values(state="stopped", stopped_at=now)
        )
        session.execute(update(Experiment).where(Experiment.id == experiment_id).values(winner=arm))
    return get(db, account, experiment_id)
