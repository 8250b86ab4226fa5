"""Per-request access to the services and the caller's account (set by the API's login)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Response, current_app, g, request
from sqlalchemy.orm import Session

from app.api import idempotency
from app.infra.database import Render
from app.infra.errors import NotFound
from app.infra.services import Services


def services() -> Services:
    svc: Services = current_app.extensions["billreel"]
    return svc


def account_id() -> str:
    """The caller's account: the id of its first key, which its renders and batches are filed
    under (the `api_key_id` columns), whichever of its keys made the request."""
    account: str = g.account_id
    return account


def caller_key_id() -> str:
    """The key this request came with (for the audit trail, never for ownership)."""
    key_id: str = g.api_key_id
    return key_id


def public_base_url() -> str:
    configured = services().settings.public_url
    return configured.rstrip("/") if configured else request.host_url.rstrip("/")


def owned_render(session: Session, render_id: str) -> Render:
    """The caller's render with this id; 404 for an unknown id and for another account's."""
    render = session.get(Render, render_id)
    if render is None or render.api_key_id != account_id():
        raise NotFound(f"no render with id {render_id[:64]!r}")
    return render


def claim_idempotency_key(
    key_id: str, body_sha256: str
) -> idempotency.Claim | idempotency.StoredResponse | None:
    """This request's `Idempotency-Key` claimed for it, or the response stored for the key;
    None when the request carries no key."""
    key = request.headers.get(idempotency.HEADER)
    if key is None:
        return None
    svc = services()
    return idempotency.claim(
        svc.db,
        key_id,
        idempotency.validate_key(key),
        idempotency.request_fingerprint(request.method, request.path, body_sha256),
        svc.settings.idempotency_ttl_seconds,
    )


def replay(stored: idempotency.StoredResponse) -> Response:
    """The stored response of an earlier request with the same key, marked as a replay."""
    headers = stored.headers | {idempotency.REPLAYED_HEADER: "true"}
    return Response(stored.body, status=stored.status, headers=headers)


def once_per_idempotency_key(make: Callable[[], Response]) -> Response:
    """Run a POST once per `Idempotency-Key`: a retry with the same body gets the stored
    answer. A refused request stores nothing, so it can be corrected and sent again."""
    body = request.get_data(cache=True)
    svc = services()
    outcome = claim_idempotency_key(account_id(), hashlib.sha256(body).hexdigest())
    if isinstance(outcome, idempotency.StoredResponse):
        return replay(outcome)
    try:
        response = make()
    except BaseException:
        if outcome is not None:
            idempotency.release(svc.db, outcome)
        raise
    if outcome is not None:
        stored = idempotency.StoredResponse(
            response.status_code, response.get_data(), dict(response.headers)
        )
        with svc.db.session() as session:
            idempotency.complete(session, outcome, stored)
    return response
