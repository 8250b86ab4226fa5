"""API keys and their life: made (shown once, stored as a SHA-256 hash), listed, rotated,
revoked.

A key acts for an account: the renders, batches and webhooks it makes belong to the account,
not to the key. A rotated key joins its predecessor's account and both work until the old
one is revoked, so a billing system can switch keys without a gap. A new key (not a
rotation) always starts a new account, whatever its name: a name is a label, and two
accounts may carry the same one.

Every request looks its key up in the database, so a revoked key gets 401 at once on every
process of the fleet; no process keeps a copy.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.access.scopes import SCOPES
from app.infra.database import ApiKey, Database, as_utc, new_id, utcnow

KEY_PREFIX = "brk_"
KEY_RANDOM_BYTES = 32  # 256 bits
SHOWN_PREFIX_CHARS = 10  # "brk_" and 6 random characters: enough to tell keys apart
MAX_NAME_CHARS = 200
MAX_SECRET_CHARS = 200  # a longer bearer token is no key of ours: no hashing it
# `last_used_at` is written at most this often per key, so a busy key is not a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class KeyRefused(ValueError):
    """A key operation refused; the message says why and names no secret."""


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown of a key: never its secret or hash."""

    id: str
    name: str
    scope: str
    prefix: str
    account: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyInfo:
        return cls(
            id=key.id,
            name=key.name,
            scope=key.scope,
            prefix=key.prefix,
            account=key.account,
            created_at=as_utc(key.created_at),
            last_used_at=as_utc(key.last_used_at) if key.last_used_at else None,
            revoked_at=as_utc(key.revoked_at) if key.revoked_at else None,
        )


@dataclass(frozen=True)
class NewKey:
    info: KeyInfo
    secret: str  # shown once, to whoever made the key


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)


def _clean_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise KeyRefused(f"key name must be 1 to {MAX_NAME_CHARS} characters")
    if any(not char.isprintable() for char in name):
        raise KeyRefused("key name must not contain control characters")
    return name


def make_key(db: Database, name: str, scope: str = "billing") -> NewKey:
    """The first key of a new account."""
    name = _clean_name(name)
    if scope not in SCOPES:
        raise KeyRefused(f"scope must be one of {', '.join(SCOPES)}")
    secret = _new_secret()
    with db.session() as session:
        key = ApiKey(
            id=new_id("key"),
            name=name,
            scope=scope,
            key_hash=hash_key(secret),
            prefix=secret[:SHOWN_PREFIX_CHARS],
            created_at=utcnow(),
        )
        session.add(key)
        session.flush()
        return NewKey(KeyInfo.of(key), secret)


def create_key(db: Database, name: str, scope: str = "billing") -> str:
    """`make_key`'s secret: the only time it is shown."""
    return make_key(db, name, scope).secret


def rotate_key(db: Database, key_id: str) -> NewKey:
    """A second live key for the same account, name and scope; the old one stays live."""
    secret = _new_secret()
    with db.session() as session:
        old = session.get(ApiKey, key_id)
        if old is None or old.revoked_at is not None:
            raise KeyRefused("only a live key can be rotated")
        key = ApiKey(
            id=new_id("key"),
            name=old.name,
            scope=old.scope,
            account_id=old.account,
            key_hash=hash_key(secret),
            prefix=secret[:SHOWN_PREFIX_CHARS],
            created_at=utcnow(),
        )
        session.add(key)
        session.flush()
        return NewKey(KeyInfo.of(key), secret)


def list_keys(db: Database, *, name: str | None = None, live_only: bool = False) -> list[KeyInfo]:
    """Keys oldest first, optionally only those of one name or only live ones."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if name is not None:
        query = query.where(ApiKey.name == name)
    if live_only:
        query = query.where(ApiKey.revoked_at.is_(None))
    with db.session() as session:
        return [KeyInfo.of(key) for key in session.scalars(query)]


def get_key(db: Database, key_id: str) -> KeyInfo | None:
    with db.session() as session:
        key = session.get(ApiKey, key_id)
        return KeyInfo.of(key) if key is not None else None


def revoke_key(db: Database, key_id: str) -> bool:
    """Revoke one key; False when it is unknown or already revoked."""
    with db.session() as session:
        key = session.get(ApiKey, key_id)
        if key is None or key.revoked_at is not None:
            return False
        key.revoked_at = utcnow()
        return True


def authenticate(db: Database, secret: str) -> ApiKey | None:
    """The live key whose secret this is, or None; notes its use (to the minute)."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > MAX_SECRET_CHARS:
        return None
    with db.session() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(secret)))
        if key is None or key.revoked_at is not None:
            return None
        now = utcnow()
        if key.last_used_at is None or now - as_utc(key.last_used_at) >= LAST_USED_RESOLUTION:
            key.last_used_at = now
        return key
