"""`/v1/journeys`: reminder journeys as versioned data (`app.journeys`), and a bill's journey.

A journey is saved as its next version (`POST /v1/journeys/{name}/versions`, version 1 of a
new name); bills pin the version they are submitted with. `GET /v1/renders/{id}/journey`
shows a bill's schedule and every decision taken on it; `.../journey/cancel` stops it.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any, Literal

from flask import Blueprint, Response, g
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.api import idempotency
from app.api.body import read_json_body, validated
from app.api.context import (
    account_id,
    claim_idempotency_key,
    owned_render,
    public_base_url,
    replay,
    services,
)
from app.api.schemas import RenderLinks
from app.delivery.links import public_links
from app.infra.errors import FieldError, InvalidInput, NotFound
from app.journeys.history import BillJourneyRecord, bill_journey, journey_id_of_render
from app.journeys.model import JourneyDefinition, name_problem
from app.journeys.stops import cancel_renders, stop
from app.journeys.store import (
    JourneyNotFound,
    VersionInfo,
    get_version,
    list_journeys,
    list_versions,
    resolve,
    save_version,
)
from app.templates.lookup import find_version
from app.templates.store import VersionNotFound

bp = Blueprint("journeys", __name__)

StepStatus = Literal["scheduled", "rendering", "sent", "skipped", "failed", "cancelled"]


class JourneyVersionOut(BaseModel):
    name: str
    version: int
    ref: str = Field(description="NAME@N, as a render request names it")
    author: str = Field(description="The name of the API key that saved it")
    created_at: datetime
    definition: JourneyDefinition


class JourneyOut(BaseModel):
    name: str
    latest: int = Field(description="The newest version: the one a bill naming NAME gets")
    created_at: datetime
    updated_at: datetime
    definition: JourneyDefinition = Field(description="The newest version's definition")


class JourneyList(BaseModel):
    data: list[JourneyOut]


class JourneyVersionList(BaseModel):
    data: list[JourneyVersionOut]


class StepOut(BaseModel):
    position: int
    name: str
    offset_days: int
    template: str
    tone: str = Field(description="The tone its render takes (forced, or the bill's rules)")
    outputs: list[str]
    due_at: datetime = Field(description="When it is due, out of the customer's quiet hours")
    window_ends_at: datetime = Field(description="Past this it is skipped as too late")
    status: StepStatus
    reason: str | None = Field(description="Why it was skipped, failed, cancelled or deferred")
    render_id: str | None = Field(description="Its render, once made")
    links: RenderLinks | None = Field(description="Its render's tracked links, once made")
    started_at: datetime | None
    finished_at: datetime | None
    webhook_id: str | None = Field(description="Its journey.step_ready webhook, once sent")


class DecisionOut(BaseModel):
    at: datetime
    step: int | None = Field(description="The step's position; null for the journey itself")
    decision: Literal[
        "started", "sent", "deferred", "skipped", "failed", "cancelled", "stopped", "completed"
    ]
    reason: str | None
    render_id: str | None
    until: datetime | None = Field(description="A deferred step's new time")


class BillJourneyOut(BaseModel):
    id: str
    journey: str = Field(description="NAME@N: the version the bill was submitted with")
    render_id: str = Field(description="The bill's own render, the one submitted with it")
    customer_id: str
    time_zone: str
    due_on: date
    status: Literal["active", "stopped", "completed"]
    stop_reason: str | None
    stopped_at: datetime | None
    created_at: datetime
    steps: list[StepOut]
    decisions: list[DecisionOut]


def version_body(version: VersionInfo) -> dict[str, Any]:
    return JourneyVersionOut(
        name=version.journey,
        version=version.number,
        ref=version.ref,
        author=version.author,
        created_at=version.created_at,
        definition=version.definition,
    ).model_dump(mode="json")


def bill_journey_body(record: BillJourneyRecord, base_url: str) -> dict[str, Any]:
    steps = [
        StepOut(
            **{k: v for k, v in vars(s).items() if k != "token"},
            links=RenderLinks(**public_links(base_url, s.token, s.outputs)) if s.token else None,
        )
        for s in record.steps
    ]
    decisions = [
        DecisionOut(
            at=d.at,
            step=d.position,
            decision=d.decision,  # type: ignore[arg-type]
            reason=d.reason,
            render_id=d.render_id,
            until=d.until,
        )
        for d in record.decisions
    ]
    return BillJourneyOut(
        id=record.id, journey=record.ref, render_id=record.render_id,
        customer_id=record.customer_id, time_zone=record.time_zone, due_on=record.due_on,
        status=record.status, stop_reason=record.stop_reason,  # type: ignore[arg-type]
        stopped_at=record.stopped_at, created_at=record.created_at, steps=steps,
        decisions=decisions,
    ).model_dump(mode="json")  # fmt: skip


def journey_version(session: Session, account: str, ref: str) -> VersionInfo:
    """The journey version a render request names, or a 422 pointing at `/journey`."""
    try:
        return resolve(session, account, ref)
    except (JourneyNotFound, ValueError) as exc:
        raise InvalidInput([FieldError("/journey", str(exc))]) from exc


def _author() -> str:
    name: str = g.api_key_name
    return name


def _check_templates(definition: JourneyDefinition) -> None:
    """Every step's template must exist now (NAME published, or NAME@N)."""
    errors = []
    for i, step in enumerate(definition.steps):
        try:
            find_version(services(), step.template)
        except (VersionNotFound, ValueError) as exc:
            errors.append(FieldError(f"/steps/{i}/template", str(exc)))
    if errors:
        raise InvalidInput(errors)


@bp.get("/journeys")
def journeys_list() -> dict[str, Any]:
    return JourneyList(
        data=[
            JourneyOut(
                name=j.name,
                latest=j.latest,
                created_at=j.created_at,
                updated_at=j.updated_at,
                definition=j.definition,
            )
            for j in list_journeys(services().db, account_id())
        ]
    ).model_dump(mode="json")


@bp.post("/journeys/<name>/versions")
def version_create(name: str) -> Response:
    """Save a journey's next version (version 1 of a new name)."""
    raw, body = read_json_body()
    svc = services()
    outcome = claim_idempotency_key(account_id(), hashlib.sha256(body).hexdigest())
    if isinstance(outcome, idempotency.StoredResponse):
        return replay(outcome)
    try:
        if problem := name_problem(name):
            raise InvalidInput([FieldError("/name", problem)])
        definition = validated(JourneyDefinition, raw)
        _check_templates(definition)
        version = save_version(svc.db, account_id(), name, definition, _author())
    except BaseException:
        if outcome is not None:  # nothing stored: a refused body may be corrected and resent
            idempotency.release(svc.db, outcome)
        raise
    stored = idempotency.StoredResponse(
        201,
        idempotency.json_bytes(version_body(version)),
        {
            "Content-Type": "application/json",
            "Location": f"/v1/journeys/{version.journey}/versions/{version.number}",
        },
    )
    if outcome is not None:
        with svc.db.session() as session:
            idempotency.complete(session, outcome, stored)
    return Response(stored.body, status=stored.status, headers=stored.headers)


@bp.get("/journeys/<name>/versions")
def versions_list(name: str) -> dict[str, Any]:
    try:
        versions = list_versions(services().db, account_id(), name)
    except JourneyNotFound as exc:
        raise NotFound(str(exc)) from exc
    return {"data": [version_body(v) for v in versions]}


@bp.get("/journeys/<name>/versions/<int:number>")
def version_get(name: str, number: int) -> dict[str, Any]:
    try:
        return version_body(get_version(services().db, account_id(), name, number))
    except (JourneyNotFound, ValueError) as exc:
        raise NotFound(str(exc)) from exc


def _bill_journey_id(session: Session, render_id: str) -> str:
    owned_render(session, render_id)
    found = journey_id_of_render(session, render_id)
    if found is None:
        raise NotFound(f"render {render_id[:64]!r} is not on a journey")
    return found[0]


@bp.get("/renders/<render_id>/journey")
def render_journey(render_id: str) -> dict[str, Any]:
    with services().db.session() as session:
        record = bill_journey(session, _bill_journey_id(session, render_id))
        assert record is not None
        return bill_journey_body(record, public_base_url())


@bp.post("/renders/<render_id>/journey/cancel")
def cancel(render_id: str) -> dict[str, Any]:
    """The billing system stops the bill's journey; cancelling again changes nothing."""
    svc = services()
    with svc.db.session() as session:
        cancelled = stop(session, _bill_journey_id(session, render_id), "cancelled") or []
    cancel_renders(svc.db, cancelled)
    with svc.db.session() as session:
        record = bill_journey(session, _bill_journey_id(session, render_id))
        assert record is not None
        return bill_journey_body(record, public_base_url())
