"""What a customer route knows of the request: the service, the render a token leads to, a visit.

Visits are recorded here, on the request, and nowhere else.
"""

from __future__ import annotations

from flask import current_app, request

from app.analytics.bots import request_flag
from app.analytics.events import EventType, daily_salt, visitor_hash
from app.analytics.writer import Visit, event_writer
from app.delivery import links
from app.delivery.retention import link_expired
from app.infra.database import Render, utcnow
from app.infra.services import Services


def services() -> Services:
    found: Services = current_app.extensions["billreel"]
    return found


def find_render(token: str) -> Render | None:
    return links.find_render(services().db, token)


def expired(render: Render) -> bool:
    """Past retention (`BILLREEL_LINK_TTL_DAYS`) or purged: the link answers 410."""
    return link_expired(render, services().settings.link_ttl_days)


def record_visit(render_id: str, type_: EventType, *, name: str | None = None) -> None:
    """Record a customer's visit or action on this request (the one place events are taken).

    Every visit is kept; HEAD, prefetches, known bots and bursts are flagged (`app.analytics.bots`)
    so the funnel leaves them out while the customer is still served.
    """
    svc = services()
    now = utcnow()
    salt = daily_salt(svc.db, now)
    visitor = visitor_hash(svc.secret, salt, request.remote_addr)
    purpose = request.headers.get("Sec-Purpose") or request.headers.get("Purpose")
    flag = request_flag(request.method, request.headers.get("User-Agent"), purpose)
    # Through app.analytics.writer (record + the burst rule): batched per process when
    # BILLREEL_EVENT_FLUSH_SECONDS > 0, so a busy link never waits on the database.
    visit = Visit(render_id, type_, now, name=name, visitor=visitor, flagged=flag)
    event_writer(svc.db, svc.settings.event_flush_seconds).submit(visit)


def is_direct_visit() -> bool:
    """A person (or a scanner) following the video link itself, not a page's player.

    The player's own fetches say `Sec-Fetch-Dest: video` and ask for later byte ranges;
    a visit is a top-level request for the start of the file.
    """
    if request.headers.get("Sec-Fetch-Dest", "document") != "document":
        return False
    ranges = request.range.ranges if request.range is not None else []
    return not ranges or ranges[0][0] == 0
