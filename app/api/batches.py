"""`/v1/batches`: a billing run as NDJSON, read as a stream and written in chunks.

The body is spooled to a temporary file while it is hashed (memory stays flat whatever
its size), so that an `Idempotency-Key` can be checked before any line takes effect.
Accepted lines fan out in chunks of `batch_chunk_lines`: each chunk is one transaction
(its renders and the batch's `accepted` count so far) and then one round of enqueues, so
`GET /v1/batches/{id}` shows progress while a long run is still being read.

`POST /v1/batches/{id}/cancel` turns the batch's queued renders into `cancelled` with one
conditional UPDATE; a worker's claim is conditional too, so each render is either claimed
(and finishes) or cancelled, never both. Their jobs stay in Redis and end at once.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from flask import Blueprint, Response, request, stream_with_context
from pydantic import Field
from sqlalchemy import func, select, update

from app.api import idempotency
from app.api.body import require_content_type
from app.api.context import account_id, claim_idempotency_key, public_base_url, replay, services
from app.api.renders import new_render, resolve_refs
from app.api.schemas import BatchAccepted, BatchCounts, LineRejection
from app.delivery.links import public_links
from app.experiments.placement import Placer
from app.infra.database import Batch, BatchRejection, Render, as_utc, new_id, utcnow
from app.infra.errors import PROBLEM_CONTENT_TYPE, FieldError, InvalidInput, NotFound
from app.infra.services import Services
from app.intake import json_input, parse_render_request
from app.journeys.enroll import enroll
from app.journeys.store import VersionInfo as JourneyVersion
from app.templates.store import VersionInfo

bp = Blueprint("batches", __name__)

NDJSON = "application/x-ndjson"
SPOOL_MEMORY_BYTES = 4 * 1024 * 1024  # past this the body goes to disk
READ_CHUNK_BYTES = 64 * 1024
RESULTS_PAGE = 1000


class BatchProgress(BatchCounts):
    """A batch's renders counted by state, read while it runs."""

    cancelled: int = Field(description="renders not rendered because the batch was cancelled")
    cancelled_at: datetime | None = Field(None, description="when the batch was cancelled")


@bp.post("/batches")
def create_batch() -> Response:
    require_content_type(NDJSON)
    svc = services()
    key_id = account_id()
    request.max_content_length = svc.settings.max_batch_bytes
    with tempfile.SpooledTemporaryFile(
        max_size=SPOOL_MEMORY_BYTES, dir=str(svc.settings.work_dir)
    ) as spool:
        digest = _spool(request.stream, spool)
        spool.seek(0)
        outcome = claim_idempotency_key(key_id, digest)
        if isinstance(outcome, idempotency.StoredResponse):
            return replay(outcome)
        claim = outcome
        try:
            stored = _ingest(svc, spool, key_id, claim)
        except Exception:
            if claim is not None:
                idempotency.release(svc.db, claim)
            raise
    return Response(stored.body, status=stored.status, headers=stored.headers)


def _spool(stream: IO[bytes], spool: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(READ_CHUNK_BYTES):  # raises 413 past max_content_length
        digest.update(chunk)
        spool.write(chunk)
    return digest.hexdigest()


def _lines(spool: IO[bytes], max_line: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for each line; bytes None when the line is over `max_line`."""
    number = 0
    while True:
        line = spool.readline(max_line + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line and not line.endswith(b"\n"):
            while (rest := spool.readline(READ_CHUNK_BYTES)) and not rest.endswith(b"\n"):
                pass  # skip the remainder of an over-long line without holding it
            yield number, None
            continue
        yield number, line


def _ingest(
    svc: Services, spool: IO[bytes], key_id: str, claim: idempotency.Claim | None
) -> idempotency.StoredResponse:
    settings = svc.settings
    batch_id = new_id("bat")
    with svc.db.session() as session:
        session.add(Batch(id=batch_id, api_key_id=key_id))
    # Every line naming NAME gets the version published now, however long the run takes;
    # a journey named NAME, its newest version now.
    versions: dict[str, VersionInfo] = {}
    journeys: dict[str, JourneyVersion] = {}
    on_journey: dict[str, JourneyVersion] = {}  # render id -> the journey its bill follows
    pending: list[Render] = []
    rejected: list[LineRejection] = []
    # The experiments running when the run is read place every line, as versions are pinned.
    placer = Placer(svc.db)
    accepted = 0
    seen_any = False

    def flush() -> None:
        if not pending:
            return
        with svc.db.session() as session:
            batch = session.get(Batch, batch_id)
            cancelled = batch is not None and batch.cancelled_at is not None
            if cancelled:  # cancelled while the body is still being read
                for render in pending:
                    render.status = "cancelled"
                    render.finished_at = utcnow()
            session.add_all(pending)
            session.flush()  # the renders first: their journeys refer to them
            now = utcnow()
            for render in pending:
                journey = on_journey.pop(render.id, None)
                if journey is not None and not cancelled:
                    enroll(session, render, journey, now)
            session.execute(update(Batch).where(Batch.id == batch_id).values(accepted=accepted))
        if svc.queue is not None and not cancelled:
            svc.queue.enqueue_many([render.id for render in pending], "batch")
        pending.clear()

    for number, line in _lines(spool, settings.max_batch_line_bytes):
        if line is not None and not line.strip():
            continue  # blank lines (a trailing newline, say) are not requests
        seen_any = True
        try:
            if line is None:
                raise InvalidInput(
                    [
                        FieldError(
                            "", f"the line is longer than {settings.max_batch_line_bytes} bytes"
                        )
                    ]
                )
            try:
                raw = json_input.loads(line)
            except json_input.MalformedJson as exc:
                raise InvalidInput([FieldError("", f"not valid JSON: {exc}")]) from exc
            req = parse_render_request(raw)
            version, journey = resolve_refs(svc.db, req, key_id, versions, journeys)
        except InvalidInput as exc:
            rejected.append(
                LineRejection(line=number, errors=[e.as_dict() for e in exc.errors])  # type: ignore[misc]
            )
            continue
        placement = placer.place(key_id, req.template, req.data.customer.id)
        render = new_render(
            req, version, key_id, batch_id=batch_id, line=number, placement=placement
        )
        if journey is not None:
            on_journey[render.id] = journey
        pending.append(render)
        accepted += 1
        if len(pending) >= settings.batch_chunk_lines:
            flush()
    flush()
    if not seen_any:
        error = InvalidInput([FieldError("", "the batch has no lines")])
        with svc.db.session() as session:
            session.delete(session.get(Batch, batch_id))
            if claim is not None:
                idempotency.complete(
                    session,
                    claim,
                    idempotency.StoredResponse(
                        error.status,
                        idempotency.json_bytes(error.problem()),
                        {"Content-Type": PROBLEM_CONTENT_TYPE},
                    ),
                )
        raise error
    body = BatchAccepted(id=batch_id, accepted=accepted, rejected=rejected).model_dump(mode="json")
    stored = idempotency.StoredResponse(
        202,
        idempotency.json_bytes(body),
        {"Location": f"/v1/batches/{batch_id}", "Content-Type": "application/json"},
    )
    with svc.db.session() as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        batch.accepted = accepted
        batch.rejected_count = len(rejected)
        session.add_all(
            BatchRejection(
                batch_id=batch_id, line=r.line, errors=[e.model_dump() for e in r.errors]
            )
            for r in rejected
        )
        if claim is not None:
            idempotency.complete(session, claim, stored)
    return stored


def owned_batch(batch_id: str) -> Batch:
    with services().db.session() as session:
        batch = session.get(Batch, batch_id)
        if batch is None or batch.api_key_id != account_id():
            raise NotFound(f"no batch with id {batch_id[:64]!r}")
        return batch


@bp.get("/batches/<batch_id>")
def get_batch(batch_id: str) -> dict[str, Any]:
    return _progress(owned_batch(batch_id))


@bp.post("/batches/<batch_id>/cancel")
def cancel_batch(batch_id: str) -> dict[str, Any]:
    """Queued renders become `cancelled`; rendering ones finish. Calling it again is a no-op."""
    owned_batch(batch_id)
    now = utcnow()
    with services().db.session() as session:
        session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.cancelled_at.is_(None))
            .values(cancelled_at=now)
        )
        session.execute(
            update(Render)
            .where(Render.batch_id == batch_id, Render.status == "queued")
            .values(status="cancelled", finished_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return _progress(owned_batch(batch_id))


def _progress(batch: Batch) -> dict[str, Any]:
    with services().db.session() as session:
        counts = dict(
            session.execute(
                select(Render.status, func.count())
                .where(Render.batch_id == batch.id)
                .group_by(Render.status)
            ).all()
        )
    return BatchProgress(
        id=batch.id,
        accepted=batch.accepted,
        rejected=batch.rejected_count,
        queued=counts.get("queued", 0),
        rendering=counts.get("rendering", 0),
        done=counts.get("done", 0),
        failed=counts.get("failed", 0),
        cancelled=counts.get("cancelled", 0),
        created_at=as_utc(batch.created_at),
        cancelled_at=as_utc(batch.cancelled_at) if batch.cancelled_at else None,
    ).model_dump(mode="json")


@bp.get("/batches/<batch_id>/results")
def batch_results(batch_id: str) -> Response:
    owned_batch(batch_id)
    db = services().db
    base_url = public_base_url()

    def generate() -> Iterator[bytes]:
        last_line = 0
        while True:
            # Keyset pages: short transactions, memory flat for any batch size.
            with db.session() as session:
                rows = session.execute(
                    select(
                        Render.id,
                        Render.external_id,
                        Render.customer_id,
                        Render.status,
                        Render.token,
                        Render.outputs,
                        Render.line,
                        Render.video_mode,
                    )
                    .where(Render.batch_id == batch_id, Render.line > last_line)
                    .order_by(Render.line)
                    .limit(RESULTS_PAGE)
                ).all()
            if not rows:
                return
            for row in rows:
                line = {
                    "id": row.id,
                    "external_id": row.external_id,
                    "customer_id": row.customer_id,
                    "status": row.status,
                    "links": public_links(
                        base_url, row.token, row.outputs, on_open=row.video_mode == "on_open"
                    ),
                }
                yield idempotency.json_bytes(line) + b"\n"
            last_line = rows[-1].line

    return Response(stream_with_context(generate()), mimetype=NDJSON)
