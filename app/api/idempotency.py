"""`Idempotency-Key`: the same key and body replay the stored response; scoped to the API key.

A key is claimed in its own transaction before the work starts, so a concurrent retry
sees it in flight (409). The work then stores its response in the same transaction that
writes its effects, so an effect is never recorded without its response.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.infra.database import Database, IdempotencyRecord, as_utc, utcnow
from app.infra.errors import FieldError, IdempotencyConflict, InvalidInput

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A claim older than this whose request never finished is taken as abandoned (a crash).
ABANDONED_CLAIM_SECONDS = 15 * 60
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Location", "Content-Type")


@dataclass
class StoredResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Claim:
    record_id: int


def request_fingerprint(method: str, path: str, body_sha256: str) -> str:
    return hashlib.sha256(f"{method} {path} {body_sha256}".encode()).hexdigest()


def validate_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            [
                FieldError(
                    "", f"the {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable characters"
                )
            ]
        )
    return key


def claim(
    db: Database, api_key_id: str, key: str, fingerprint: str, ttl_seconds: int
) -> Claim | StoredResponse:
    """Claim `key` for this request, or return the response stored for it.

    Raises IdempotencyConflict while another request with the key is in flight, and
    InvalidInput when the key was used with a different request.
    """
    now = utcnow()
    with db.session() as session:
        existing = session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
            )
        )
        if existing is not None:
            age = now - as_utc(existing.created_at)
            expired = age > timedelta(seconds=ttl_seconds)
            abandoned = existing.response_status is None and age > timedelta(
                seconds=ABANDONED_CLAIM_SECONDS
            )
            if not (expired or abandoned):
                if existing.request_hash != fingerprint:
                    raise InvalidInput(
                        [
                            FieldError(
                                "", f"this {HEADER} was already used with a different request"
                            )
                        ],
                        detail=f"{HEADER} reused with a different request",
                    )
                if existing.response_status is None:
                    raise IdempotencyConflict(
                        f"a request with this {HEADER} is still being processed; retry later",
                        headers={"Retry-After": "1"},
                    )
                return StoredResponse(
                    existing.response_status,
                    existing.response_body or b"",
                    dict(existing.response_headers or {}),
                )
            session.delete(existing)
            session.flush()
    try:
        with db.session() as session:
            record = IdempotencyRecord(api_key_id=api_key_id, key=key, request_hash=fingerprint)
            session.add(record)
            session.flush()
            return Claim(record.id)
    except IntegrityError as exc:  # a concurrent request claimed it between our two steps
        raise IdempotencyConflict(
            f"a request with this {HEADER} is still being processed; retry later",
            headers={"Retry-After": "1"},
        ) from exc


def complete(session: Session, claim_: Claim, response: StoredResponse) -> None:
    """Store the response with the claim, inside the caller's transaction."""
    record = session.get(IdempotencyRecord, claim_.record_id)
    if record is not None:
        record.response_status = response.status
        record.response_body = response.body
        record.response_headers = {k: v for k, v in response.headers.items() if k in KEPT_HEADERS}


def release(db: Database, claim_: Claim) -> None:
    """Forget a claim whose request failed on our side, so that a retry can run."""
    with db.session() as session:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == claim_.record_id))


def purge_expired(db: Database, ttl_seconds: int) -> int:
    cutoff = utcnow() - timedelta(seconds=ttl_seconds)
    with db.session() as session:
        result = session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
