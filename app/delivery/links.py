"""Tracked links: random tokens, the links a render's outputs are reached by, and lookup.

A token is 192 random bits and carries no customer data. A link only ever leads to its
own render's outputs or to its bill's `payment.url`: there is no open redirect. The routes
that answer these links are the customer interface's (`app.customer.pages`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app.infra.database import Database, Render
from renderers import SiteLinks

TOKEN_BYTES = 24  # 192 bits, over the contract's 128
# Files a link can serve, by URL name; each maps to the output it belongs to.
LINK_FILES = {
    "video.mp4": "video",
    "poster.jpg": "video",
    "captions.vtt": "video",
    "chapters.vtt": "video",
}


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


STREAM_FILE = "video.m3u8"  # the HLS playlist of a video made on open (`app.ondemand`)


def site_links(token: str, bill: Mapping[str, Any], *, on_open: bool = False) -> SiteLinks:
    """Links as the microsite uses them, relative to `/r/` where the page is served;
    `on_open`: the video is made when the page is opened, and played by its HLS playlist."""
    has_payment = bool(bill.get("payment", {}).get("url"))
    return SiteLinks(
        video=f"{token}/video.mp4",
        poster=f"{token}/poster.jpg",
        captions=f"{token}/captions.vtt",
        pay=f"{token}/pay" if has_payment else None,
        chapters=f"{token}/chapters.vtt",
        stream=f"{token}/{STREAM_FILE}" if on_open else None,
    )


def public_links(
    base_url: str, token: str, outputs: list[str], *, on_open: bool = False
) -> dict[str, str]:
    """The absolute tracked links of a render, as the API returns them; a video made on open
    has its HLS playlist too (`stream`)."""
    base = f"{base_url.rstrip('/')}/r/{token}"
    links: dict[str, str] = {}
    if "microsite" in outputs:
        links["microsite"] = base
    if "video" in outputs:
        links["video"] = f"{base}/video.mp4"
        links["poster"] = f"{base}/poster.jpg"
        links["captions"] = f"{base}/captions.vtt"
        links["chapters"] = f"{base}/chapters.vtt"  # beyond the contract's links, as it allows
        if on_open:
            links["stream"] = f"{base}/{STREAM_FILE}"
    return links


def find_render(db: Database, token: str) -> Render | None:
    """The render a token leads to; tokens of impossible length never reach the database."""
    if not 16 <= len(token) <= 64:
        return None
    with db.session() as session:
        return session.scalar(select(Render).where(Render.token == token))
