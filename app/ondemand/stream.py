"""Where a video made on open lives while it is coded: its HLS files in object storage.

Each run (attempt) of a video writes under a prefix of its own, `renders/ID/hls/N/`: a run
that died leaves its files, and the next never rewrites a playlist a player is following
(an EVENT playlist only grows). The service reads the newest run's playlist, whichever
machine's worker writes it, so any API instance serves any customer.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlalchemy import select

from app.infra.database import Database, Render
from app.infra.storage import ObjectNotFound, Storage, output_key

PLAYLIST = "video.m3u8"
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
# The init segment and the media segments, as renderers/video/hls.py names them.
SEGMENT_RE = re.compile(r"init\.mp4|seg\d{5}\.m4s")
SEGMENT_TYPES = {".mp4": "video/mp4", ".m4s": "video/iso.segment"}
PLAYLIST_CACHE = "no-store"  # it grows: never kept by a browser or a proxy
SEGMENT_CACHE = "private, max-age=31536000, immutable"  # a run's files never change
# How often a waiting request looks at the playlist again, and for how long at most: the
# HLS spec asks a blocking reload to be answered within three target durations (5 s here).
POLL_SECONDS = 0.05
WAIT_SECONDS = 8.0
SERVER_CONTROL = "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES"


def stream_key(render_id: str, attempt: int, name: str) -> str:
    """The key of one HLS file of run `attempt` of a render's video."""
    if attempt < 1:
        raise ValueError("attempt must be 1 or more")
    return output_key(render_id, f"hls/{attempt}/{name}")


def segment_type(name: str) -> str:
    return SEGMENT_TYPES[name[name.rindex(".") :]]


@dataclass(frozen=True)
class Playlist:
    text: str
    segments: int  # media segments listed
    ended: bool  # ENDLIST: no segment follows


def parse(text: str) -> Playlist:
    segments = sum(1 for line in text.splitlines() if line.startswith("#EXTINF:"))
    return Playlist(text, segments, "#EXT-X-ENDLIST" in text)


def read_playlist(storage: Storage, render_id: str, attempt: int) -> Playlist | None:
    try:
        raw = storage.read_bytes(stream_key(render_id, attempt, PLAYLIST))
    except ObjectNotFound:
        return None
    return parse(raw.decode("utf-8"))


def wait_for_segment(
    storage: Storage, render_id: str, attempt: int, wanted: int, wait_seconds: float = WAIT_SECONDS
) -> Playlist | None:
    """The playlist once it lists media segment `wanted` (counting from 0) or has ended; None
    if neither happens within `wait_seconds` (a blocking playlist reload, RFC 8216bis 6.2.5.2:
    the player asks for the segment after the last it has)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        found = read_playlist(storage, render_id, attempt)
        if found is not None and (found.segments > wanted or found.ended):
            return found
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECONDS)


def served(playlist: Playlist, prefix: str) -> str:
    """The playlist as a player gets it: its files under `prefix` (the run's route), and the
    server's promise that a reload may block until the next segment is there."""
    lines = []
    for line in playlist.text.splitlines():
        if line.startswith("#EXT-X-MAP:URI="):
            name = line.split('"')[1]
            line = f'#EXT-X-MAP:URI="{prefix}{name}"'
        elif line and not line.startswith("#"):
            line = prefix + line
        lines.append(line)
        if line.startswith("#EXT-X-TARGETDURATION"):
            lines.append(SERVER_CONTROL)
    return "\n".join(lines) + "\n"


def wait_for_attempt(
    db: Database, render_id: str, wait_seconds: float = WAIT_SECONDS
) -> int | None:
    """The run a worker claimed for this video once one has (its number); None if none did
    within `wait_seconds`, or the video failed or its render is gone."""
    deadline = time.monotonic() + wait_seconds
    while True:
        with db.session() as session:
            row = session.execute(
                select(Render.video_attempts, Render.video_state).where(Render.id == render_id)
            ).first()
        if row is None or row[1] == "failed":
            return None
        if row[0]:
            return int(row[0])
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECONDS)
