"""`/v1/admin`: what an admin key may do: API keys listed, made, rotated and revoked;
dashboard sessions listed and ended; the audit trail read and exported.

Only keys of scope `admin` reach these routes (`app.api` checks); admin keys are made with
`billreel keys create NAME --scope admin`. A secret is in the answer that makes it, once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from flask import Blueprint, Response, request
from pydantic import BaseModel, ConfigDict, Field

from app.access.keys import (
    MAX_NAME_CHARS,
    KeyRefused,
    get_key,
    list_keys,
    make_key,
    revoke_key,
    rotate_key,
)
from app.access.scopes import Scope
from app.access.sessions import end_session, get_session, list_sessions
from app.api.body import read_json_body, validated
from app.api.context import services
from app.audit.trail import MAX_PAGE, as_csv, as_ndjson, entries
from app.infra.errors import Conflict, FieldError, InvalidInput, NotFound

bp = Blueprint("admin", __name__, url_prefix="/admin")


class KeyOut(BaseModel):
    id: str
    name: str
    scope: Scope
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    account: str = Field(description="Keys of one account (a key and its rotations) share it")
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute; null: never used")
    revoked_at: datetime | None


class NewKeyOut(KeyOut):
    key: str = Field(description="The secret: shown in this answer only")


class KeyList(BaseModel):
    keys: list[KeyOut]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    scope: Scope = "billing"


def _as_json(model: type[BaseModel], found: object) -> dict[str, Any]:
    """A domain record (a dataclass) as the JSON of its answer model."""
    return model.model_validate(found, from_attributes=True).model_dump(mode="json")


@bp.get("/keys")
def keys() -> dict[str, Any]:
    return {"keys": [_as_json(KeyOut, info) for info in list_keys(services().db)]}


@bp.post("/keys")
def create() -> tuple[dict[str, Any], int]:
    body = validated(KeyIn, read_json_body()[0])
    try:
        made = make_key(services().db, body.name, body.scope)
    except KeyRefused as exc:  # a name pydantic let through, with control characters
        raise InvalidInput([FieldError("/name", str(exc))]) from None
    return _as_json(KeyOut, made.info) | {"key": made.secret}, 201


@bp.post("/keys/<key_id>/rotate")
def rotate(key_id: str) -> tuple[dict[str, Any], int]:
    if get_key(services().db, key_id) is None:
        raise NotFound(f"no key with id {key_id[:64]!r}")
    try:
        made = rotate_key(services().db, key_id)
    except KeyRefused as exc:
        raise Conflict(str(exc)) from None
    return _as_json(KeyOut, made.info) | {"key": made.secret}, 201


@bp.delete("/keys/<key_id>")
def revoke(key_id: str) -> Response:
    """204 once the key is revoked, also when it already was: a retry is safe."""
    if get_key(services().db, key_id) is None:
        raise NotFound(f"no key with id {key_id[:64]!r}")
    revoke_key(services().db, key_id)
    return Response(status=204)


class SessionOut(BaseModel):
    id: str
    key_id: str
    account: str
    created_at: datetime
    last_seen_at: datetime = Field(description="To the minute")
    ended_at: datetime | None
    end_reason: Literal["logout", "idle", "expired", "key_revoked", "admin"] | None


class SessionList(BaseModel):
    sessions: list[SessionOut]


@bp.get("/sessions")
def sessions() -> dict[str, Any]:
    """Dashboard sessions, newest first; `?live=true` for those not ended."""
    live = request.args.get("live", "false") == "true"
    return {
        "sessions": [_as_json(SessionOut, s) for s in list_sessions(services().db, live_only=live)]
    }


@bp.delete("/sessions/<session_id>")
def end(session_id: str) -> Response:
    """204 once the session is over (also when it already was); 404 for an unknown id."""
    if get_session(services().db, session_id) is None:
        raise NotFound(f"no session with id {session_id[:64]!r}")
    end_session(services().db, session_id=session_id, reason="admin")
    return Response(status=204)


class AuditEntryOut(BaseModel):
    id: str
    at: datetime
    actor_type: Literal["key", "session", "cli"]
    actor_id: str = Field(description="A key id, a session id, or the operating-system user")
    account: str | None
    action: str = Field(examples=["render.create", "key.revoke", "customer.erase"])
    target: str | None = Field(description="The id acted on; a customer as a keyed hash")
    request_id: str | None = Field(description="The request's X-Request-Id")
    status: int | None


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next: str | None = Field(description="Pass as ?before= for the next page; null: no more")


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str | None = Field(None, max_length=40)
    account: str | None = Field(None, max_length=40)
    since: datetime | None = None
    until: datetime | None = None
    before: str | None = Field(None, max_length=40)
    limit: int = Field(100, ge=1, le=MAX_PAGE)
    format: Literal["json", "ndjson", "csv"] = "json"


@bp.get("/audit")
def audit() -> Any:
    """Newest first, filtered by action, account and time; ?format=ndjson|csv exports."""
    query = validated(AuditQuery, request.args.to_dict())
    found = entries(
        services().db,
        action=query.action,
        account=query.account,
        since=query.since,
        until=query.until,
        before_id=query.before,
        limit=query.limit,
    )
    if query.format == "ndjson":
        return Response(as_ndjson(found), content_type="application/x-ndjson")
    if query.format == "csv":
        answer = Response(as_csv(found), content_type="text/csv; charset=utf-8")
        answer.headers["Content-Disposition"] = 'attachment; filename="billreel-audit.csv"'
        return answer
    more = len(found) == query.limit
    return {
        "entries": [_as_json(AuditEntryOut, e) for e in found],
        "next": found[-1].id if more else None,
    }
