"""The on-demand video job: code a render's video scene by scene, publish each scene's HLS
segment the moment it is written, then store the MP4 as an up-front render would.

`run_video(render_id)` is what RQ calls (on the `ondemand` queue, ahead of batch work);
the in-process queue calls `run_video_with`. A run claims the video with one conditional
UPDATE (`queued`, or `rendering` silent past the stuck bound: a dead worker) and counts it
in `video_attempts`; it writes under its own prefix (`app.ondemand.stream`) and touches
`video_updated_at` with every segment, so the sweeper never takes a live run for a dead
one. Only the newest claim may mark the video done. An erased render's row is gone, a
purged one is never claimed: neither renders.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, update

from app.infra.database import Render, utcnow
from app.infra.services import Services
from app.infra.settings import Settings
from app.infra.storage import CONTENT_TYPES, ObjectNotFound, output_key, render_prefix
from app.ondemand.stream import (
    PLAYLIST,
    PLAYLIST_CACHE,
    PLAYLIST_TYPE,
    SEGMENT_CACHE,
    segment_type,
    stream_key,
)
from app.rendering.job import OUTPUT_CACHE_CONTROL, SOUND_PLAN, SOUND_TRACK, is_transient
from app.rendering.voices import voice_from_settings
from app.templates.bundles import bundle_for_render
from renderers import stream_video
from renderers.errors import RenderError
from renderers.video.hls import INIT_NAME

log = logging.getLogger(__name__)

_worker_services: Services | None = None
_worker_lock = threading.Lock()


class VideoRetry(Exception):
    """A video that failed for a passing reason (storage): RQ runs it again later."""


def share_with_work_horses(services: Services) -> None:
    """The worker's services, for the horses it forks (see app.rendering.job)."""
    global _worker_services
    _worker_services = services


def run_video(render_id: str) -> str:
    """RQ entry point: services come from the environment, built once per worker process."""
    global _worker_services
    with _worker_lock:
        if _worker_services is None:
            _worker_services = Services.build(Settings.from_env())
    return run_video_with(_worker_services, render_id)


def run_video_with(services: Services, render_id: str) -> str:
    """Make one render's video; returns its video state afterwards. Safe to call twice."""
    from app.infra.logs import log_context

    with log_context(render_id=render_id):
        return _run(services, render_id)


def _run(services: Services, render_id: str) -> str:
    claimed = _claim(services, render_id)
    if claimed is None:
        return _state(services, render_id)
    row, attempt = claimed
    ids = {"render_id": render_id, "attempt": attempt}
    log.info("video started", extra=ids)
    settings = services.settings
    workdir = Path(tempfile.mkdtemp(prefix="render-", dir=settings.work_dir))
    storage = services.storage

    claimed_at = time.monotonic()

    def publish(files: list[Path], playlist: str) -> None:
        for path in files:
            storage.put_file(stream_key(render_id, attempt, path.name), path,
                             content_type=segment_type(path.name),
                             cache_control=SEGMENT_CACHE)  # fmt: skip
        # The playlist last: it never names a file that is not stored yet.
        storage.put_bytes(stream_key(render_id, attempt, PLAYLIST), playlist.encode("utf-8"),
                          content_type=PLAYLIST_TYPE, cache_control=PLAYLIST_CACHE)  # fmt: skip
        _heartbeat(services, render_id, attempt)
        if files and files[0].name == INIT_NAME:  # how soon a player can start: worth a line
            seconds = round(time.monotonic() - claimed_at, 3)
            log.info("first segment out", extra={**ids, "seconds": seconds})
        if settings.render_hold_seconds > 0 and files and files[0].name == INIT_NAME:
            # Tests only (BILLREEL_RENDER_HOLD_SECONDS): a window to kill the worker mid-stream,
            # its first scene out and the rest not; never set in production.
            time.sleep(settings.render_hold_seconds)

    try:
        bundle = bundle_for_render(services, row["version_id"], row["template"])
        video = stream_video(
            row["bill"], bundle, workdir, publish, voice=voice_from_settings(settings),
            tone=row["forced_tone"], sound=_kept_sound(services, render_id, workdir),
        )  # fmt: skip
        storage.put_file(output_key(render_id, "video.mp4"), video,
                         content_type=CONTENT_TYPES["video.mp4"],
                         cache_control=OUTPUT_CACHE_CONTROL)  # fmt: skip
    except Exception as exc:
        if is_transient(exc) and attempt <= settings.render_retries:
            _back_to_queue(services, render_id, attempt)
            log.warning("video will be retried", extra={**ids, "reason": type(exc).__name__})
            raise VideoRetry(f"video of {render_id}: {type(exc).__name__}") from exc
        if isinstance(exc, RenderError):
            log.warning("video failed", extra={**ids, "reason": type(exc).__name__})
        else:
            log.exception("video crashed", extra={**ids, "reason": type(exc).__name__})
        _end(services, render_id, attempt, "failed")
        return _state(services, render_id)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not _end(services, render_id, attempt, "done"):
        state = _state(services, render_id)
        if state == "missing":  # erased while it was coded: what was stored belongs to nobody
            storage.delete_prefix(render_prefix(render_id))
            log.warning("render erased while its video ran; its files are removed", extra=ids)
        return state
    log.info("video done", extra=ids)
    return "done"


def _kept_sound(services: Services, render_id: str, workdir: Path) -> tuple[Path, Path] | None:
    """The narration lengths and mixed track the page's run kept; None (narrate again) for a
    render made before they were kept."""
    paths = []
    for name in (SOUND_TRACK, SOUND_PLAN):
        try:
            data = services.storage.read_bytes(output_key(render_id, name))
        except ObjectNotFound:
            return None
        path = workdir / name.rsplit("/", 1)[-1]
        path.write_bytes(data)
        paths.append(path)
    return paths[0], paths[1]


def _claim(services: Services, render_id: str) -> tuple[dict[str, Any], int] | None:
    now = utcnow()
    stale = now - timedelta(seconds=services.settings.stuck_after_seconds)
    with services.db.session() as session:
        taken = session.execute(
            update(Render)
            .where(
                Render.id == render_id,
                Render.status == "done",
                Render.purged_at.is_(None),
                or_(
                    Render.video_state == "queued",
                    and_(Render.video_state == "rendering", Render.video_updated_at < stale),
                ),
            )
            .values(
                video_state="rendering",
                video_attempts=Render.video_attempts + 1,
                video_updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) != 1:
            return None
        row = session.get(Render, render_id, populate_existing=True)
        assert row is not None
        found = {
            "bill": row.bill, "template": row.template, "version_id": row.template_version_id,
            "forced_tone": row.forced_tone,
        }  # fmt: skip
        return found, row.video_attempts


def _mine(render_id: str, attempt: int) -> Any:
    return and_(
        Render.id == render_id,
        Render.video_state == "rendering",
        Render.video_attempts == attempt,
    )


def _heartbeat(services: Services, render_id: str, attempt: int) -> None:
    """A segment is out: this run is alive (the sweeper's bound counts from here)."""
    with services.db.session() as session:
        session.execute(
            update(Render).where(_mine(render_id, attempt)).values(video_updated_at=utcnow())
        )


def _back_to_queue(services: Services, render_id: str, attempt: int) -> None:
    with services.db.session() as session:
        session.execute(
            update(Render)
            .where(_mine(render_id, attempt))
            .values(video_state="queued", video_updated_at=utcnow())
        )


def _end(services: Services, render_id: str, attempt: int, state: str) -> bool:
    """Record the outcome if this run holds the newest claim; False when superseded."""
    with services.db.session() as session:
        ended = session.execute(
            update(Render)
            .where(_mine(render_id, attempt))
            .values(video_state=state, video_updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return getattr(ended, "rowcount", 0) == 1


def _state(services: Services, render_id: str) -> str:
    with services.db.session() as session:
        row = session.get(Render, render_id)
        return (row.video_state or "none") if row is not None else "missing"
