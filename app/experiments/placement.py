"""Which arm a render is in, decided when it is accepted: the render pins that arm's version.

A render naming a template by NAME (not NAME@N) is placed in the running experiment of its
account on that template: the one on its journey step when it is a step's render and one
runs there, else the one over the whole template. Its arm is `assignment`'s (a hash of the
experiment and the customer), so a customer gets the same arm on every bill, re-send and
step. A hold-out render gets the control's version with the plain microsite only.

A `Placer` reads the running experiments once and keeps them: a batch uses one for the whole
run, so every line is placed by the design that ran when the run was read, as every line is
pinned to the version published then; a scheduler tick reads those of all its steps'
accounts in one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.experiments.assignment import Assignment
from app.experiments.store import ANY_JOURNEY, ExperimentInfo, load_many
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
    """Places renders, reading the running experiments of each (account, template) once."""

    def __init__(self, source: Session | Database) -> None:
        """`source`: the caller's transaction, or a database to read in short ones of its own
        (a batch, whose chunks commit while it is read)."""
        self._source = source
        # (account, template) -> {(journey, step): its running experiment}
        self._found: dict[tuple[str, str], dict[tuple[str, int], Running]] = {}

    def preload(self, accounts: Iterable[str], templates: Iterable[str]) -> None:
        """Read the running experiments of these accounts on these templates in one query
        (the scheduler's tick, over many accounts at once)."""
        wanted = {(a, t) for a in accounts for t in templates if not names_a_version(t)}
        wanted -= set(self._found)
        if not wanted:
            return
        if isinstance(self._source, Database):
            with self._source.session() as session:
                self._read(session, wanted)
        else:
            self._read(self._source, wanted)

    def running(
        self, account: str, template: str, journey: str | None = None, step: int | None = None
    ) -> Running | None:
        """The experiment a render of `template` (on this journey step) is placed by: the
        step's own, else the template's."""
        self.preload([account], [template])
        targets = self._found[(account, template)]
        own = targets.get((journey, step or 0)) if journey else None
        return own or targets.get((ANY_JOURNEY, 0))

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

    def _read(self, session: Session, wanted: set[tuple[str, str]]) -> None:
        accounts, templates = sorted({a for a, _ in wanted}), sorted({t for _, t in wanted})
        ids = session.scalars(
            select(Experiment.id).where(
                Experiment.account.in_(accounts),
                Experiment.template.in_(templates),
                Experiment.state == "running",
            )
        )
        for pair in wanted:
            self._found[pair] = {}
        for info in load_many(session, list(ids)):
            pair = (info.account, info.template)
            if pair in wanted:
                self._found[pair][(info.journey or ANY_JOURNEY, info.journey_step or 0)] = Running(
                    info
                )
