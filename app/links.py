"""Tracked links: random tokens, the URL builder, and the customer routes under `/r/`.

A token is 192 random bits and carries no customer data. A link only ever leads to its
own render's outputs or to its bill's `payment.url`: there is no open redirect.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, redirect, request, send_file
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.analytics import EventType, daily_salt, visitor_hash
from app.bots import request_flag
from app.db import Render, utcnow
from app.event_writer import Visit, event_writer
from app.services import Services
from app.storage import CONTENT_TYPES, output_key
from renderers import SiteLinks
from renderers.microsite.script import SCRIPT_HASH_SOURCE

TOKEN_BYTES = 24  # 192 bits, over the contract's 128
PRESIGNED_URL_SECONDS = 300  # made at click time, never stored or mailed
# Files a link can serve, by URL name; each maps to a storage name and the output it belongs to.
LINK_FILES = {
    "video.mp4": "video",
    "poster.jpg": "video",
    "captions.vtt": "video",
}
CUSTOMER_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}
MICROSITE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'; "
    f"script-src {SCRIPT_HASH_SOURCE}; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

bp = Blueprint("links", __name__)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def site_links(token: str, bill: Mapping[str, Any]) -> SiteLinks:
    """Links as the microsite uses them, relative to `/r/` where the page is served."""
    has_payment = bool(bill.get("payment", {}).get("url"))
    return SiteLinks(
        video=f"{token}/video.mp4",
        poster=f"{token}/poster.jpg",
        captions=f"{token}/captions.vtt",
        pay=f"{token}/pay" if has_payment else None,
    )


def public_links(base_url: str, token: str, outputs: list[str]) -> dict[str, str]:
    """The absolute tracked links of a render, as the API returns them."""
    base = f"{base_url.rstrip('/')}/r/{token}"
    links: dict[str, str] = {}
    if "microsite" in outputs:
        links["microsite"] = base
    if "video" in outputs:
        links["video"] = f"{base}/video.mp4"
        links["poster"] = f"{base}/poster.jpg"
        links["captions"] = f"{base}/captions.vtt"
    return links


def _services() -> Services:
    services: Services = current_app.extensions["billreel"]
    return services


def find_render(token: str) -> Render | None:
    if not 16 <= len(token) <= 64:
        return None
    with _services().db.session() as session:
        return session.scalar(select(Render).where(Render.token == token))


def expired(render: Render) -> bool:
    """Past retention (`BILLREEL_LINK_TTL_DAYS`) or purged: the link answers 410."""
    from app.retention import link_expired

    return link_expired(render, _services().settings.link_ttl_days)


def record_visit(render_id: str, type_: EventType, *, name: str | None = None) -> None:
    """Record a customer's visit or action on this request (the one place events are taken).

    Every visit is kept; HEAD, prefetches, known bots and bursts are flagged (`app.bots`)
    so the funnel leaves them out while the customer is still served.
    """
    services = _services()
    now = utcnow()
    salt = daily_salt(services.db, now)
    visitor = visitor_hash(services.secret, salt, request.remote_addr)
    purpose = request.headers.get("Sec-Purpose") or request.headers.get("Purpose")
    flag = request_flag(request.method, request.headers.get("User-Agent"), purpose)
    # Through app.event_writer (record + the burst rule): batched per process when
    # BILLREEL_EVENT_FLUSH_SECONDS > 0, so a busy link never waits on the database.
    visit = Visit(render_id, type_, now, name=name, visitor=visitor, flagged=flag)
    event_writer(services.db, services.settings.event_flush_seconds).submit(visit)


def is_direct_visit() -> bool:
    """A person (or a scanner) following the video link itself, not a page's player.

    The player's own fetches say `Sec-Fetch-Dest: video` and ask for later byte ranges;
    a visit is a top-level request for the start of the file.
    """
    if request.headers.get("Sec-Fetch-Dest", "document") != "document":
        return False
    ranges = request.range.ranges if request.range is not None else []
    return not ranges or ranges[0][0] == 0


@bp.after_request
def _customer_headers(response: Response) -> Response:
    response.headers.update(CUSTOMER_HEADERS)
    return response


@bp.get("/r/<token>")
def microsite(token: str) -> Response:
    render = find_render(token)
    if render is None or "microsite" not in render.outputs or render.status == "failed":
        return friendly_page(404)
    if expired(render):
        return friendly_page(410)
    if render.status != "done":
        return friendly_page(200, preparing=True)
    html = _services().storage.read_bytes(output_key(render.id, "site/index.html"))
    record_visit(render.id, "opened")
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MICROSITE_CSP
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/r/<token>/<any('video.mp4', 'poster.jpg', 'captions.vtt'):name>")
def output_file(token: str, name: str) -> Response:
    render = find_render(token)
    if render is None or LINK_FILES[name] not in render.outputs or render.status != "done":
        return friendly_page(404)
    if expired(render):
        return friendly_page(410)
    if name == "video.mp4" and is_direct_visit():
        record_visit(render.id, "opened", name="video")
    storage = _services().storage
    key = output_key(render.id, name)
    path = storage.local_path(key)
    if path is not None:
        # conditional=True answers Range requests with 206 and If-None-Match with 304.
        served = send_file(path, mimetype=CONTENT_TYPES[name], conditional=True, max_age=3600)
        served.headers["Cache-Control"] = "private, max-age=3600"
        return served
    url = storage.presigned_url(key, expires_seconds=PRESIGNED_URL_SECONDS)
    if url is None:
        return friendly_page(404)
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/r/<token>/pay")
def pay(token: str) -> Response:
    render = find_render(token)
    url = (render.bill.get("payment") or {}).get("url") if render else None
    if render is not None and expired(render):
        return friendly_page(410)
    if render is None or not isinstance(url, str) or not url.startswith("https://"):
        return friendly_page(404)
    record_visit(render.id, "pay_click")
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">{refresh}
<title>{title}</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b1f24}}
main{{max-width:32rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:12px}}
h1{{font-size:1.4rem;margin:0 0 .5rem}}
</style></head>
<body><main><h1>{title}</h1><p>{text}</p></main></body></html>
"""


def friendly_page(status: int, *, preparing: bool = False) -> Response:
    """A page a customer can read, for links that are unknown, expired or not ready yet."""
    if preparing:
        title = "Your bill is being prepared"
        text = "This page will refresh by itself in a few seconds."
        refresh = '\n<meta http-equiv="refresh" content="10">'
    elif status == 410:
        title = "This link has expired"
        text = (
            "Links to a bill's video and page are kept for a limited time only, to protect "
            "your data. Your bills are always available from your account or from customer "
            "service."
        )
        refresh = ""
    else:
        title = "This link is not available"
        text = (
            "The link may have expired or been mistyped. Your latest bill is always "
            "available from your account or from customer service."
        )
        refresh = ""
    response = Response(
        _PAGE.format(title=title, text=text, refresh=refresh), status=status, mimetype="text/html"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers.update(CUSTOMER_HEADERS)
    return response
