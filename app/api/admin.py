"""`/v1/admin`: what an admin key may do: API keys listed, made, rotated and revoked.

Only keys of scope `admin` reach these routes (`app.api` checks); admin keys are made with
`billreel keys create NAME --scope admin`. A secret is in the answer that makes it, once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.access.keys import (
    MAX_NAME_CHARS,
    KeyInfo,
    KeyRefused,
    Scope,
    get_key,
    list_keys,
    make_key,
    revoke_key,
    rotate_key,
)
from app.api.body import read_json_body
from app.api.context import services
from app.infra.errors import Conflict, FieldError, InvalidInput, NotFound, join_pointer

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


def _out(info: KeyInfo) -> dict[str, Any]:
    return KeyOut.model_validate(info, from_attributes=True).model_dump(mode="json")


@bp.get("/keys")
def keys() -> dict[str, Any]:
    return {"keys": [_out(info) for info in list_keys(services().db)]}


@bp.post("/keys")
def create() -> tuple[dict[str, Any], int]:
    parsed, _ = read_json_body()
    try:
        body = KeyIn.model_validate(parsed)
    except ValidationError as exc:
        raise InvalidInput(
            [FieldError(join_pointer("", *e["loc"]), e["msg"]) for e in exc.errors()]
        ) from None
    try:
        made = make_key(services().db, body.name, body.scope)
    except KeyRefused as exc:
        raise Conflict(str(exc)) from None
    return _out(made.info) | {"key": made.secret}, 201


@bp.post("/keys/<key_id>/rotate")
def rotate(key_id: str) -> tuple[dict[str, Any], int]:
    if get_key(services().db, key_id) is None:
        raise NotFound(f"no key with id {key_id[:64]!r}")
    try:
        made = rotate_key(services().db, key_id)
    except KeyRefused as exc:
        raise Conflict(str(exc)) from None
    return _out(made.info) | {"key": made.secret}, 201


@bp.delete("/keys/<key_id>")
def revoke(key_id: str) -> Response:
    """204 once the key is revoked, also when it already was: a retry is safe."""
    if get_key(services().db, key_id) is None:
        raise NotFound(f"no key with id {key_id[:64]!r}")
    revoke_key(services().db, key_id)
    return Response(status=204)
