"""Journeys as versioned data, per account: every save makes the next immutable version.

A bill pins the version it was submitted with (NAME: the newest then; NAME@N: that one), so
editing a journey never changes the schedule of bills already on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.infra.database import Database, Journey, JourneyVersion, as_utc, new_id, utcnow
from app.journeys.model import JourneyDefinition, definition_of, name_problem


class JourneyNotFound(LookupError):
    """No such journey for this account, or no such version of it."""


@dataclass(frozen=True)
class VersionInfo:
    id: str
    journey: str
    number: int
    author: str
    created_at: datetime
    definition: JourneyDefinition

    @property
    def ref(self) -> str:
        return f"{self.journey}@{self.number}"

    @classmethod
    def of(cls, journey: Journey, row: JourneyVersion) -> VersionInfo:
        return cls(
            id=row.id,
            journey=journey.name,
            number=row.number,
            author=row.author,
            created_at=as_utc(row.created_at),
            definition=definition_of(row.definition),
        )


@dataclass(frozen=True)
class JourneySummary:
    name: str
    latest: int
    created_at: datetime
    updated_at: datetime
    definition: JourneyDefinition  # the newest version's


def parse_ref(ref: str) -> tuple[str, int | None]:
    """ "NAME" or "NAME@N"; ValueError naming what is wrong."""
    name, at, number = ref.partition("@")
    problem = name_problem(name)
    if problem:
        raise ValueError(problem)
    if not at:
        return name, None
    if not number.isdigit() or number.startswith("0") or not 0 < int(number) < 10**9:
        raise ValueError("a version number is a positive integer: NAME@N")
    return name, int(number)


def save_version(
    db: Database, account: str, name: str, definition: JourneyDefinition, author: str
) -> VersionInfo:
    """Make the next version of `name` (version 1 of a new journey).

    The number is taken by incrementing the journey's row in the same transaction, so two
    saves at once get two numbers, never one.
    """
    if problem := name_problem(name):
        raise ValueError(problem)
    for attempt in range(2):
        try:
            with db.session() as session:
                return _save(session, account, name, definition, author)
        except IntegrityError:  # another save made the journey first: it exists now
            if attempt:
                raise
    raise AssertionError("unreachable")


def _save(
    session: Session, account: str, name: str, definition: JourneyDefinition, author: str
) -> VersionInfo:
    now = utcnow()
    journey = session.scalar(
        select(Journey).where(Journey.account == account, Journey.name == name)
    )
    if journey is None:
        journey = Journey(
            id=new_id("jny"), account=account, name=name, latest=0, created_at=now, updated_at=now
        )
        session.add(journey)
        session.flush()
    session.execute(
        update(Journey)
        .where(Journey.id == journey.id)
        .values(latest=Journey.latest + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    number = session.scalar(select(Journey.latest).where(Journey.id == journey.id))
    assert number is not None
    row = JourneyVersion(
        id=new_id("jnv"),
        journey_id=journey.id,
        number=number,
        definition=definition.model_dump(mode="json"),
        author=author[:200],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return VersionInfo.of(journey, row)


def _journey(session: Session, account: str, name: str) -> Journey:
    journey = session.scalar(
        select(Journey).where(Journey.account == account, Journey.name == name)
    )
    if journey is None:
        raise JourneyNotFound(f"no journey named {name!r}")
    return journey


def resolve(session: Session, account: str, ref: str) -> VersionInfo:
    """The version `ref` names for this account: NAME is the newest, NAME@N that one."""
    name, number = parse_ref(ref)
    journey = _journey(session, account, name)
    wanted = journey.latest if number is None else number
    row = session.scalar(
        select(JourneyVersion).where(
            JourneyVersion.journey_id == journey.id, JourneyVersion.number == wanted
        )
    )
    if row is None:
        raise JourneyNotFound(f"journey {name!r} has no version {wanted}")
    return VersionInfo.of(journey, row)


def list_journeys(db: Database, account: str) -> list[JourneySummary]:
    with db.session() as session:
        rows = session.execute(
            select(Journey, JourneyVersion)
            .join(
                JourneyVersion,
                (JourneyVersion.journey_id == Journey.id)
                & (JourneyVersion.number == Journey.latest),
            )
            .where(Journey.account == account)
            .order_by(Journey.name)
        ).all()
        return [
            JourneySummary(
                name=journey.name,
                latest=journey.latest,
                created_at=as_utc(journey.created_at),
                updated_at=as_utc(journey.updated_at),
                definition=definition_of(version.definition),
            )
            for journey, version in rows
        ]


def list_versions(db: Database, account: str, name: str) -> list[VersionInfo]:
    with db.session() as session:
        journey = _journey(session, account, name)
        rows = session.scalars(
            select(JourneyVersion)
            .where(JourneyVersion.journey_id == journey.id)
            .order_by(JourneyVersion.number.desc())
        )
        return [VersionInfo.of(journey, row) for row in rows]


def get_version(db: Database, account: str, name: str, number: int) -> VersionInfo:
    with db.session() as session:
        return resolve(session, account, f"{name}@{number}")


def version_by_id(session: Session, version_id: str) -> tuple[str, int, dict[str, Any]]:
    """(journey name, number, stored definition) of a version, by its id."""
    row = session.execute(
        select(Journey.name, JourneyVersion.number, JourneyVersion.definition)
        .join(Journey, Journey.id == JourneyVersion.journey_id)
        .where(JourneyVersion.id == version_id)
    ).one()
    return row[0], int(row[1]), dict(row[2])
