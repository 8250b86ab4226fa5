"""`/v1/renders`: accept one render request, and report a render's state and links.

A request that names a journey (`journey`, beyond the contract) puts the bill on it in the
same transaction: its steps are scheduled with the render (`app.journeys.enroll`). A request
naming a template by NAME while an experiment of the account runs on it is placed in an arm
and pinned to that arm's version (`app.experiments.placement`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response
from sqlalchemy.orm import Session

from app.api import idempotency
from app.api.body import read_json_body
from app.api.context import (
    account_id,
    claim_idempotency_key,
    owned_render,
    public_base_url,
    replay,
    services,
)
from app.api.journeys import journey_version
from app.api.schemas import RenderJourney, RenderOut, RenderVideo
from app.delivery.links import new_token, public_links
from app.experiments.placement import Placement, Placer
from app.infra.database import BillJourney, Database, Render, as_utc, new_id, utcnow
from app.infra.errors import FieldError, InvalidInput
from app.intake import RenderRequest, bill_document, parse_render_request
from app.journeys.enroll import enroll
from app.journeys.history import journey_id_of_render
from app.journeys.store import VersionInfo as JourneyVersion
from app.journeys.store import version_by_id
from app.templates.lookup import find_version
from app.templates.store import VersionInfo, VersionNotFound

bp = Blueprint("renders", __name__)


def render_body(
    render: Render, base_url: str, journey: RenderJourney | None = None
) -> dict[str, Any]:
    out = RenderOut(
        id=render.id,
        status=render.status,  # type: ignore[arg-type]
        template=render.template_version or render.template,
        external_id=render.external_id,
        customer_id=render.customer_id,
        outputs=render.outputs,  # type: ignore[arg-type]
        links=public_links(  # type: ignore[arg-type]
            base_url, render.token, render.outputs, on_open=render.video_mode == "on_open"
        ),
        error=render.error,  # type: ignore[arg-type]
        batch_id=render.batch_id,
        created_at=as_utc(render.created_at),
        finished_at=as_utc(render.finished_at) if render.finished_at else None,
        journey=journey,
        video=RenderVideo(mode="on_open", status=render.video_state)  # type: ignore[arg-type]
        if render.video_mode == "on_open"
        else None,
    )
    body = out.model_dump(mode="json")
    body["links"] = {name: url for name, url in body["links"].items() if url is not None}
    if journey is None:
        del body["journey"]  # a render without one looks as the contract shows it
    if out.video is None:
        del body["video"]  # a video made up front: as the contract shows it
    return body


def render_journey(session: Session, render_id: str) -> RenderJourney | None:
    """Where a render stands on its bill's journey, if it is on one."""
    found = journey_id_of_render(session, render_id)
    if found is None:
        return None
    bill_journey_id, step = found
    record = session.get(BillJourney, bill_journey_id)
    assert record is not None
    name, number, _ = version_by_id(session, record.journey_version_id)
    return RenderJourney(
        id=record.id,
        journey=f"{name}@{number}",
        status=record.status,  # type: ignore[arg-type]
        step=step,
    )


def resolve_template(ref: str, cache: dict[str, VersionInfo] | None = None) -> VersionInfo:
    """The version a request names (NAME: the one published now), or a 422 pointing at
    `/template`. A batch passes one `cache` for all its lines: the whole run is pinned to
    the version published when it was created."""
    if cache is not None and ref in cache:
        return cache[ref]
    try:
        version = find_version(services(), ref)
    except (VersionNotFound, ValueError) as exc:
        raise InvalidInput([FieldError("/template", str(exc))]) from exc
    if cache is not None:
        cache[ref] = version
    return version


def resolve_refs(
    db: Database,
    req: RenderRequest,
    account: str,
    cache: dict[str, VersionInfo] | None = None,
    journeys: dict[str, JourneyVersion] | None = None,
) -> tuple[VersionInfo, JourneyVersion | None]:
    """The template version and the journey version a request names; one 422 listing both
    when neither is found. `cache` and `journeys` keep a batch's lookups."""
    errors: list[FieldError] = []
    version = journey = None
    try:
        version = resolve_template(req.template, cache)
    except InvalidInput as exc:
        errors += exc.errors
    if req.journey is not None:
        journey = journeys.get(req.journey) if journeys is not None else None
        try:
            if journey is None:
                with db.session() as session:
                    journey = journey_version(session, account, req.journey)
        except InvalidInput as exc:
            errors += exc.errors
        if journeys is not None and journey is not None:
            journeys[req.journey] = journey
    if errors or version is None:
        raise InvalidInput(errors)
    return version, journey


def new_render(
    req: RenderRequest,
    version: VersionInfo,
    key_id: str,
    *,
    batch_id: str | None = None,
    line: int | None = None,
    placement: Placement | None = None,
) -> Render:
    """The render a request makes; in an experiment's arm it is pinned to the arm's version."""
    version_ref, version_id, outputs = version.ref, version.id, list[str](req.outputs)
    if placement is not None:
        version_ref, version_id = placement.version_ref, placement.version_id
        outputs = list(placement.outputs or outputs)
    return Render(
        id=new_id("rnd"),
        api_key_id=key_id,
        batch_id=batch_id,
        line=line,
        token=new_token(),
        template=version.template,
        template_version=version_ref,
        template_version_id=version_id,
        experiment_id=placement.experiment_id if placement else None,
        experiment_arm=placement.arm if placement else None,
        outputs=outputs,
        external_id=req.external_id,
        customer_id=req.data.customer.id,
        callback_url=str(req.callback_url) if req.callback_url else None,
        bill=bill_document(req.data),
        status="queued",
        video_mode="on_open" if req.video == "on_open" else None,
        video_state="waiting" if req.video == "on_open" else None,
    )


@bp.post("/renders")
def create_render() -> Response:
    raw, body = read_json_body()
    svc = services()
    key_id = account_id()
    base_url = public_base_url()
    outcome = claim_idempotency_key(key_id, hashlib.sha256(body).hexdigest())
    if isinstance(outcome, idempotency.StoredResponse):
        return replay(outcome)
    claim = outcome
    try:
        with svc.db.session() as session:
            render, stored = _accept(session, raw, key_id, base_url)
            if claim is not None:
                idempotency.complete(session, claim, stored)
    except InvalidInput as exc:
        if claim is not None:
            _store_problem(claim, exc)
        raise
    except Exception:
        if claim is not None:
            idempotency.release(svc.db, claim)
        raise
    if svc.queue is not None:
        svc.queue.enqueue(render.id, "ondemand")
    return Response(stored.body, status=stored.status, headers=stored.headers)


def _accept(
    session: Session, raw: Any, key_id: str, base_url: str
) -> tuple[Render, idempotency.StoredResponse]:
    req = parse_render_request(raw)
    version, journey = resolve_refs(services().db, req, key_id)
    placement = Placer(session).place(key_id, req.template, req.data.customer.id)
    render = new_render(req, version, key_id, placement=placement)
    session.add(render)
    session.flush()
    if journey is not None:
        enroll(session, render, journey, utcnow())
        session.flush()
    body = idempotency.json_bytes(
        render_body(render, base_url, render_journey(session, render.id) if journey else None)
    )
    headers = {"Location": f"/v1/renders/{render.id}", "Content-Type": "application/json"}
    return render, idempotency.StoredResponse(202, body, headers)


def _store_problem(claim: idempotency.Claim, exc: InvalidInput) -> None:
    from app.infra.errors import PROBLEM_CONTENT_TYPE

    stored = idempotency.StoredResponse(
        exc.status, idempotency.json_bytes(exc.problem()), {"Content-Type": PROBLEM_CONTENT_TYPE}
    )
    with services().db.session() as session:
        idempotency.complete(session, claim, stored)


@bp.get("/renders/<render_id>")
def get_render(render_id: str) -> dict[str, Any]:
    with services().db.session() as session:
        render = owned_render(session, render_id)
        return render_body(render, public_base_url(), render_journey(session, render.id))
