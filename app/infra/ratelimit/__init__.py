"""Counters for rate limits that every API process shares: Redis when it is set, else the
database (`DatabaseStorage`, a storage of the `limits` library that Flask-Limiter uses).
"""

from app.infra.ratelimit.storage import DatabaseStorage, storage_uri

__all__ = ["DatabaseStorage", "storage_uri"]
