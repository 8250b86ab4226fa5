"""Which arm a render is in, decided when it is accepted: the render pins that arm's version.

A render naming a template by NAME (not NAME@N) is placed in the running experiment of its
account on that template: the one on its journey step when it is a step's render and one
runs there, else the one over the whole template. Its arm is `assignment`'s (a hash of the
experiment and the customer), so a customer gets the same arm on every bill, re-send and
step. A hold-out render gets the control's version with the plain microsite only.

A `Placer` reads each running experiment once and keeps it: a batch uses one for the whole
run, so every line is placed by the design that ran when the run was read, as every line is
pinned to the version published then.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.experiments.assignment import Assignment
from app.experiments.store import ANY_JOURNEY, ExperimentInfo, load
from app.infra.database import Database, Experiment

HOLDOUT_OUTPUTS = ("microsite",)  # what a hold-out render makes: the plain page, no video


@dataclass(frozen=True)
class Placement:
    experiment_id: str
    arm: str
    version_id: str
    version_ref: str  # NAME@N
    outputs: tuple[str, ...] | None  # None: the outputs the request asked for


def names_a_version(ref: str) -> bool:
    """NAME@N: the caller chose the version, so the render is in no experiment."""
    return "@" in ref


class Running:
    """A running experiment's design with its ranges cut once, ready to place customers."""

    def __init__(self, info: ExperimentInfo) -> None:
        self.info = info
        self._assign = Assignment(info.design())
        control = info.arm(info.control)
        assert control.version_id is not None and control.version_ref is not None
        self._control = (control.version_id, control.version_ref)

    def place(self, customer_id: str) -> Placement:
        arm = self.info.arm(self._assign(self.info.id, customer_id))
        if arm.holdout:
            version_id, version_ref = self._control
            outputs: tuple[str, ...] | None = HOLDOUT_OUTPUTS
        else:
            assert arm.version_id is not None and arm.version_ref is not None
            version_id, version_ref, outputs = arm.version_id, arm.version_ref, None
        return Placement(self.info.id, arm.name, version_id, version_ref, outputs)


class Placer:
    """Places renders, reading each (account, template, step) target's experiment once."""

    def __init__(self, source: Session | Database) -> None:
        """`source`: the caller's transaction, or a database to read in short ones of its own
        (a batch, whose chunks commit while it is read)."""
        self._source = source
        self._found: dict[tuple[str, str, str, int], Running | None] = {}

    def running(
        self, account: str, template: str, journey: str | None = None, step: int | None = None
    ) -> Running | None:
        """The experiment a render of `template` (on this journey step) is placed by."""
        key = (account, template, journey or ANY_JOURNEY, step or 0)
        if key not in self._found:
            self._found[key] = self._read(*key)
        return self._found[key]

    def place(
        self,
        account: str,
        ref: str,
        customer_id: str,
        journey: str | None = None,
        step: int | None = None,
    ) -> Placement | None:
        """Where a render naming `ref` goes; None: in no experiment."""
        if names_a_version(ref):
            return None
        running = self.running(account, ref, journey, step)
        return running.place(customer_id) if running is not None else None

    def _read(self, account: str, template: str, journey: str, step: int) -> Running | None:
        if isinstance(self._source, Database):
            with self._source.session() as session:
                return _running(session, account, template, journey, step)
        return _running(self._source, account, template, journey, step)


def _running(
    session: Session, account: str, template: str, journey: str, step: int
) -> Running | None:
    targets = [(ANY_JOURNEY, 0)] + ([(journey, step)] if journey else [])
    rows = session.execute(
        select(Experiment.id, Experiment.journey).where(
            Experiment.account == account,
            Experiment.template == template,
            Experiment.state == "running",
            tuple_(Experiment.journey, Experiment.journey_step).in_(targets),
        )
    ).all()
    if not rows:
        return None
    # The step's own experiment wins over the template's.
    chosen = max(rows, key=lambda r: r.journey != ANY_JOURNEY)
    return Running(load(session, chosen.id))
