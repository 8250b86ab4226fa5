"""The customer routes of a tracked link: the microsite, the video's files and the pay link.

A link only ever leads to its own render's outputs or to its bill's `payment.url`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request, send_file
from werkzeug.wrappers import Response

from app.customer.context import expired, find_render, is_direct_visit, record_visit, services
from app.customer.friendly import CUSTOMER_HEADERS, friendly_page
from app.customer.stream import flagged, hls_preload
from app.delivery.links import LINK_FILES
from app.infra.storage import CONTENT_TYPES, ObjectNotFound, output_key
from app.ondemand.request import ask_for_video
from renderers.microsite.script import (
    PLAYER_HASH_SOURCE,
    RETIRED_HASH_SOURCES,
    SCRIPT_HASH_SOURCE,
)

PRESIGNED_URL_SECONDS = 300  # made at click time, never stored or mailed
# Scripts: the page's two inline ones by hash, and files of this origin (hls.js, which a
# video made on open needs where the browser has no HLS). `blob:` media: hls.js hands the
# video element a MediaSource of its own making; it fetches (connect-src) only from here.
RETIRED = RETIRED_HASH_SOURCES  # pages made by earlier releases keep their inline scripts
MICROSITE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "media-src 'self' blob:; "
    f"script-src 'self' {' '.join([SCRIPT_HASH_SOURCE, PLAYER_HASH_SOURCE, *RETIRED])}; "
    "connect-src 'self'; "
    "worker-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

# Text tracks are served from here, not redirected: a <track> of another origin needs CORS
# on the bucket, and is dropped without it.
PROXIED_FILES = frozenset({"captions.vtt", "chapters.vtt"})

bp = Blueprint("links", __name__)


def microsite_csp() -> str:
    """The page's policy; with S3, the poster and video come by presigned redirects from the
    bucket's origin, which img-src and media-src must then name (a redirect is checked too)."""
    cached: str | None = current_app.extensions.get("billreel.microsite_csp")
    if cached is None:
        probe = services().storage.presigned_url("csp/origin", expires_seconds=60)
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(probe)) if probe else None
        cached = (
            MICROSITE_CSP.replace("img-src 'self' data:", f"img-src 'self' data: {origin}").replace(
                "media-src 'self' blob:", f"media-src 'self' blob: {origin}"
            )
            if origin
            else MICROSITE_CSP
        )
        current_app.extensions["billreel.microsite_csp"] = cached
    return cached


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
    html = services().storage.read_bytes(output_key(render.id, "site/index.html"))
    record_visit(render.id, "opened")
    if render.video_state == "waiting" and not flagged():
        # A person opened it: the video is coded now, and plays as its first scene is out.
        ask_for_video(services(), render.id)
    response = Response(html, mimetype="text/html")
    preload = (
        hls_preload(request.headers.get("User-Agent")) if render.video_mode == "on_open" else None
    )
    if preload is not None:
        response.headers["Link"] = preload
    response.headers["Content-Security-Policy"] = microsite_csp()
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/r/<token>/<any('video.mp4', 'poster.jpg', 'captions.vtt', 'chapters.vtt'):name>")
def output_file(token: str, name: str) -> Response:
    render = find_render(token)
    if render is None or LINK_FILES[name] not in render.outputs or render.status != "done":
        return friendly_page(404)
    if expired(render):
        return friendly_page(410)
    if name == "video.mp4" and is_direct_visit():
        record_visit(render.id, "opened", name="video")
    if name == "video.mp4" and render.video_state not in (None, "done"):
        # Made on open and not made yet: a person following the link itself asks for it.
        if render.video_state == "waiting" and is_direct_visit() and not flagged():
            ask_for_video(services(), render.id)
        return friendly_page(200, preparing=True)
    storage = services().storage
    key = output_key(render.id, name)
    path = storage.local_path(key)
    if path is not None:
        # conditional=True answers Range requests with 206 and If-None-Match with 304.
        served = send_file(path, mimetype=CONTENT_TYPES[name], conditional=True, max_age=3600)
        served.headers["Cache-Control"] = "private, max-age=3600"
        return served
    if name in PROXIED_FILES:
        try:
            text = Response(storage.read_bytes(key), mimetype=CONTENT_TYPES[name])
        except ObjectNotFound:
            return friendly_page(404)
        text.headers["Cache-Control"] = "private, max-age=3600"
        return text
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
