"""The audit trail: entries written once, read back newest first, exported as NDJSON or CSV.

An entry names its actor (`key`: an API key id, `session`: a dashboard session id, `cli`: the
operating-system user), the actor's account, the action (`render.create`, `key.revoke`,
...), the target's id, the request id and the answer's status. A customer's id is a target
only as an HMAC keyed with the service's secret: an admin can check whether a given customer
was erased without the trail keeping who they were.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select

from app.infra.database import AuditEntry, Database, as_utc, new_id, utcnow

ActorType = Literal["key", "session", "cli"]
MAX_PAGE = 1000
CSV_FIELDS = (
    "id", "at", "actor_type", "actor_id", "account", "action", "target", "request_id", "status"
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    id: str
    at: datetime
    actor_type: str
    actor_id: str
    account: str | None
    action: str
    target: str | None
    request_id: str | None
    status: int | None


def customer_target(secret: bytes, customer_id: str) -> str:
    """How an erased customer is named in the trail: a keyed hash, never the id itself."""
    digest = hmac.new(secret, customer_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"customer:{digest[:32]}"


def record(
    db: Database,
    *,
    actor_type: ActorType,
    actor_id: str,
    action: str,
    account: str | None = None,
    target: str | None = None,
    request_id: str | None = None,
    status: int | None = None,
) -> str:
    entry_id = new_id("aud")
    with db.session() as session:
        session.add(
            AuditEntry(
                id=entry_id,
                at=utcnow(),
                actor_type=actor_type,
                actor_id=actor_id,
                account=account,
                action=action,
                target=target,
                request_id=request_id,
                status=status,
            )
        )
    return entry_id


def entries(
    db: Database,
    *,
    action: str | None = None,
    account: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: str | None = None,
    limit: int = MAX_PAGE,
) -> list[Entry]:
    """Newest first; `before_id` continues a page (the last id of the previous one)."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if account is not None:
        query = query.where(AuditEntry.account == account)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    with db.session() as session:
        if before_id is not None:
            anchor = session.get(AuditEntry, before_id)
            if anchor is not None:
                at = anchor.at
                query = query.where(
                    (AuditEntry.at < at) | ((AuditEntry.at == at) & (AuditEntry.id < anchor.id))
                )
        rows = session.scalars(query.limit(max(1, min(limit, MAX_PAGE))))
        return [
            Entry(
                id=row.id,
                at=as_utc(row.at),
                actor_type=row.actor_type,
                actor_id=row.actor_id,
                account=row.account,
                action=row.action,
                target=row.target,
                request_id=row.request_id,
                status=row.status,
            )
            for row in rows
        ]


def as_ndjson(found: list[Entry]) -> str:
    return "".join(json.dumps(asdict(e), default=datetime.isoformat) + "\n" for e in found)


def as_csv(found: list[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for e in found:
        row = asdict(e) | {"at": e.at.isoformat()}
        writer.writerow(["" if row[f] is None else row[f] for f in CSV_FIELDS])
    return out.getvalue()
