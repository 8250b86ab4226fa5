"""What a customer does on the microsite: calls to action and the video's progress beacons.

Both are POSTs from the page itself. They are accepted only from the same origin (the
browser's Origin or Sec-Fetch-Site says so; the page's CSP also limits `form-action`), and
only for names on a fixed list, so a request can neither forge nor invent an event.
Asking for an instalment plan or promising to pay stops the bill's reminder journey
(`app.journeys.stops`), unless the request comes from a known bot.
"""

from __future__ import annotations

from typing import get_args
from urllib.parse import urlsplit

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from app.analytics.bots import request_flag
from app.analytics.events import EventType
from app.customer.context import expired, find_render, record_visit, services
from app.customer.friendly import CUSTOMER_HEADERS, friendly_page
from app.infra.database import Render
from app.journeys.stops import STOPPING_ACTIONS, StopReason, cancel_renders, stop_for_render
from renderers.microsite import CTA_NAMES

bp = Blueprint("customer_actions", __name__)

# Beacon types the page may send, with the names each accepts (None: no name).
VIDEO_EVENTS: dict[str, frozenset[str | None]] = {
    "video_started": frozenset({None}),
    "video_progress": frozenset({"25", "50", "75", "100"}),
    "video_completed": frozenset({None}),
}
assert set(VIDEO_EVENTS) <= set(get_args(EventType))


def same_origin() -> bool:
    """True for a request the page itself made; never for another site's form or script.

    Sec-Fetch-Site is set by the browser and decides when present. Under the page's
    no-referrer policy Chromium sends `Origin: null`, so Origin only counts when it is real.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is not None and origin != "null" and urlsplit(origin).netloc == request.host


def _live_site(token: str) -> Render | None:
    render = find_render(token)
    if render is None or "microsite" not in render.outputs or render.status != "done":
        return None
    if expired(render):  # past retention or purged: no new events for a gone page
        return None
    return render


def _plain(status: int) -> Response:
    response = Response(status=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(CUSTOMER_HEADERS)
    return response


@bp.post("/r/<token>/cta/<name>")
def call_to_action(token: str, name: str) -> Response:
    if name not in CTA_NAMES:
        return friendly_page(404)
    if not same_origin():
        return friendly_page(403)
    render = _live_site(token)
    if render is None:
        return friendly_page(404)
    record_visit(render.id, "cta", name=name)
    reason = STOPPING_ACTIONS.get(name)
    if reason is not None and request_flag("POST", request.headers.get("User-Agent")) is None:
        _stop_journey(render.id, reason)
    # Post/redirect/get: the page shows its own confirmation for #done-NAME.
    response = redirect(f"/r/{token}#done-{name}", code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(CUSTOMER_HEADERS)
    return response


def _stop_journey(render_id: str, reason: StopReason) -> None:
    """An instalment plan or a promise to pay asked for: the bill's reminders stop at once."""
    db = services().db
    with db.session() as session:
        cancelled = stop_for_render(session, render_id, reason) or []
    cancel_renders(db, cancelled)


@bp.post("/r/<token>/events")
def video_event(token: str) -> Response:
    type_ = request.form.get("type", "")
    name = request.form.get("name") or None
    if name not in VIDEO_EVENTS.get(type_, frozenset()):
        return _plain(400)
    if not same_origin():
        return _plain(403)
    render = _live_site(token)
    if render is None:
        return _plain(404)
    event: EventType = type_  # type: ignore[assignment]  # checked against VIDEO_EVENTS above
    record_visit(render.id, event, name=name)
    return _plain(204)
