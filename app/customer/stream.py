"""The routes of a video made on open: its HLS playlist and segments, and the player's hls.js.

The first real open asks for the video (`app.ondemand.request`); the playlist answers a
player's reload only once it has something new (a blocking reload: `_HLS_msn`, the segment
the player wants next), so playback starts the moment the first scene is coded and goes on
as the others are. Segments come from object storage through the service (same origin: the
page's policy lets the player fetch nothing else), whichever worker machine wrote them.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, request, send_file
from werkzeug.wrappers import Response

from app.analytics.bots import request_flag
from app.customer.context import expired, find_render, services
from app.customer.friendly import CUSTOMER_HEADERS, friendly_page
from app.infra.storage import ObjectNotFound
from app.ondemand.request import ask_for_video
from app.ondemand.stream import (
    PLAYLIST_CACHE,
    PLAYLIST_TYPE,
    SEGMENT_CACHE,
    SEGMENT_RE,
    segment_type,
    served,
    stream_key,
    wait_for_attempt,
    wait_for_segment,
)
from renderers.video.hls import FIRST_SEQUENCE

STATIC = Path(__file__).parent / "static" / "hls"
HLS_JS = "hls.light.min.js"  # hls.js's light build (tools/hlsjs), for browsers without HLS
HLS_JS_ROUTE = "/assets/hls/"
RETRY_AFTER_SECONDS = 2
MAX_MSN = 100_000  # more segments than any video has: a larger one is a bad request

# Apple's browsers (every iOS browser, Safari on a Mac) play HLS natively: the player
# never loads hls.js there, so a preload would only cost them its download.
NATIVE_HLS_AGENT = re.compile(r"iPhone|iPad|iPod|Macintosh(?!.*(?:Chrome|Chromium|Firefox|Edg)/)")

bp = Blueprint("customer_stream", __name__)


def hls_preload(user_agent: str | None) -> str | None:
    """A `Link` header that has the browser fetch hls.js while it still reads the page: the
    player asks for it only once the page has run, and it is on the path to the first frame."""
    if user_agent and NATIVE_HLS_AGENT.search(user_agent):
        return None
    return f"<{HLS_JS_ROUTE}{HLS_JS}>; rel=preload; as=script"


@bp.after_request
def _customer_headers(response: Response) -> Response:
    response.headers.update(CUSTOMER_HEADERS)
    return response


def flagged() -> bool:
    """A bot, scanner, prefetch or HEAD (`app.analytics.bots`): never asks for a video."""
    purpose = request.headers.get("Sec-Purpose") or request.headers.get("Purpose")
    return request_flag(request.method, request.headers.get("User-Agent"), purpose) is not None


def _plain(status: int, cache: str = "no-store") -> Response:
    response = Response(status=status)
    response.headers["Cache-Control"] = cache
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@bp.get("/r/<token>/video.m3u8")
def playlist(token: str) -> Response:
    render = find_render(token)
    if render is None or render.video_mode != "on_open" or render.status != "done":
        return friendly_page(404)
    if expired(render):
        return friendly_page(410)
    # `_HLS_msn`: the media sequence number the player wants next (a blocking reload); the
    # first request waits for the first segment.
    try:
        wanted = int(request.args.get("_HLS_msn", str(FIRST_SEQUENCE))) - FIRST_SEQUENCE
    except ValueError:
        return _plain(400)
    if not 0 <= wanted <= MAX_MSN:
        return _plain(400)
    svc = services()
    if render.video_state == "waiting":
        if flagged():
            return _plain(404)
        ask_for_video(svc, render.id)
    if render.video_state == "failed":
        return _plain(404)
    attempt = render.video_attempts or wait_for_attempt(svc.db, render.id)
    if attempt is None:  # no worker took it in time: the player tries again
        return _plain(503)
    found = wait_for_segment(svc.storage, render.id, attempt, wanted)
    if found is None:  # the run went silent (its worker died?): the sweeper starts another
        return _plain(503)
    response = Response(served(found, f"hls/{attempt}/"), mimetype=PLAYLIST_TYPE)
    response.headers["Cache-Control"] = PLAYLIST_CACHE
    return response


@bp.get("/r/<token>/hls/<int:attempt>/<name>")
def segment(token: str, attempt: int, name: str) -> Response:
    if not SEGMENT_RE.fullmatch(name) or attempt < 1:
        return _plain(404)
    render = find_render(token)
    if render is None or render.video_mode != "on_open" or render.status != "done":
        return _plain(404)
    if expired(render):
        return _plain(410)
    storage = services().storage
    key = stream_key(render.id, attempt, name)
    path = storage.local_path(key)
    if path is not None:
        if not path.is_file():
            return _plain(404)
        response = send_file(path, mimetype=segment_type(name), conditional=True)
    else:
        try:
            data = storage.read_bytes(key)
        except ObjectNotFound:
            return _plain(404)
        response = Response(data, mimetype=segment_type(name))  # type: ignore[assignment]
    response.headers["Cache-Control"] = SEGMENT_CACHE
    return response


@bp.get(f"{HLS_JS_ROUTE}<name>")
def hls_js(name: str) -> Response:
    if name not in (HLS_JS, "hls.LICENSE.txt"):
        return _plain(404)
    mimetype = "text/javascript" if name.endswith(".js") else "text/plain"
    response = send_file(STATIC / name, mimetype=mimetype, conditional=True)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
