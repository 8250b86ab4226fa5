"""API keys: shown once at creation, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from app.infra.database import ApiKey, Database, new_id, utcnow

KEY_PREFIX = "brk_"
KEY_RANDOM_BYTES = 32  # 256 bits


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(db: Database, name: str) -> str:
    """Create an API key named `name` and return its secret (the only time it is shown)."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise ValueError("key name must be 1 to 200 characters")
    secret = KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)
    with db.session() as session:
        session.add(
            ApiKey(id=new_id("key"), name=name, key_hash=hash_key(secret), prefix=secret[:10])
        )
    return secret


def authenticate(db: Database, secret: str) -> ApiKey | None:
    """The live key whose secret this is, or None."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    with db.session() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(secret)))
        if key is None or key.revoked_at is not None:
            return None
        return key


def revoke_key(db: Database, key_id: str) -> bool:
    with db.session() as session:
        key = session.get(ApiKey, key_id)
        if key is None or key.revoked_at is not None:
            return False
        key.revoked_at = utcnow()
        return True
