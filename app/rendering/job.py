"""The render job: load, render, store, record. Orchestration only; the work is in renderers.

`run_render(render_id)` is what RQ calls; the in-process queue calls `run_render_with`
with the services it already has. Both are the same code path.

Two kinds of failure: an invalid bill or template (a `RenderError`) fails the render at
once with a clear error; a transient one (storage or the voice service unreachable) is
retried in the run with backoff, then the render goes back to `queued` and the job raises
`TransientError`, so RQ re-runs it later (`Retry`). A claim is counted in `attempts`, and
only the newest claim may finish a render: two runs of one render give one outcome and one
webhook. A journey step's render tells its step in that same transaction
(`app.journeys.delivery`): the step's own webhook goes out, or not, with the outcome.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import and_, or_, update
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential_jitter

from app.delivery.links import site_links
from app.infra.database import Render, utcnow
from app.infra.services import Services
from app.infra.settings import Settings
from app.infra.storage import CONTENT_TYPES, InvalidKey, StorageError, output_key, render_prefix
from app.journeys.delivery import step_render_finished
from app.rendering.voices import voice_from_settings
from app.templates.bundles import bundle_for_render
from app.webhooks.outbox import enqueue_render_webhook
from renderers import Outputs, render
from renderers.errors import RenderError

log = logging.getLogger(__name__)

# Outputs are immutable once written (a new render gets a new id), so caches may keep them.
OUTPUT_CACHE_CONTROL = "private, max-age=31536000, immutable"

# Where a video made on open keeps the sound its page's run made (`app.ondemand.job` reads it).
SOUND_TRACK = "hls/sound.m4a"
SOUND_PLAN = "hls/sound.json"
PREVIEW_STAMP = "PREVIEW"  # over every frame of a studio preview's video
STORE_BACKOFF_MAX_SECONDS = 5.0  # longest pause between two store attempts in one run

_worker_services: Services | None = None
_worker_lock = threading.Lock()


def share_with_work_horses(services: Services) -> None:
    """Let the work horses RQ forks from this process use its services instead of building
    their own for every job (a database schema check, a storage client, ...).

    A forked child must not use the parent's pooled database connections: it drops them
    (without closing them, they are the parent's) and opens its own.
    """
    global _worker_services
    _worker_services = services
    os.register_at_fork(after_in_child=lambda: services.db.engine.dispose(close=False))


def run_render(render_id: str) -> str:
    """RQ entry point: services come from the environment, built once per worker process."""
    global _worker_services
    with _worker_lock:
        if _worker_services is None:
            _worker_services = Services.build(Settings.from_env())
    return run_render_with(_worker_services, render_id)


class TransientError(Exception):
    """A render that failed for a passing reason (storage, voice service): run it again later."""


def is_transient(exc: BaseException) -> bool:
    """Storage and network trouble, also when wrapped (a VoiceError from a Polly timeout)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, InvalidKey):
            return False
        if isinstance(seen, (StorageError, BotoCoreError, ConnectionError, TimeoutError)):
            return True
        if isinstance(seen, ClientError):
            error = seen.response.get("Error", {})
            status = int(seen.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            return status >= 500 or status == 429 or "Throttl" in str(error.get("Code", ""))
        seen = seen.__cause__
    return False


def run_render_with(services: Services, render_id: str) -> str:
    """Render one accepted render; returns its status afterwards. Safe to call twice."""
    from app.infra.logs import log_context

    with log_context(render_id=render_id):  # every log line of the run carries the render id
        return _run_render(services, render_id)


def _run_render(services: Services, render_id: str) -> str:
    settings = services.settings
    claimed = _claim(services, render_id)
    if claimed is None:
        with services.db.session() as session:
            render_row = session.get(Render, render_id)
            return render_row.status if render_row else "missing"
    bill, template, version_id, outputs, token, attempt, purpose, forced_tone, on_open = claimed
    ids = {"render_id": render_id, "attempt": attempt}
    log.info("render started", extra=ids)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="render-", dir=settings.work_dir))
    try:
        bundle = bundle_for_render(services, version_id, template)
        voice = voice_from_settings(settings)
        # A studio preview (a sample bill) is stamped on every frame: never a customer's video.
        stamp = PREVIEW_STAMP if purpose == "preview" else None
        # A video made on open (`app.ondemand`): this run makes the page, poster and tracks.
        result = render(
            bill, bundle, outputs, workdir, links=site_links(token, bill, on_open=on_open),
            voice=voice, stamp=stamp, tone=forced_tone, video_later=on_open,
        )  # fmt: skip
        if settings.render_hold_seconds > 0:
            # Tests only (BILLREEL_RENDER_HOLD_SECONDS): a window to kill or stop the worker
            # between rendering and storing; never set in production.
            time.sleep(settings.render_hold_seconds)
        _store_with_retry(services, render_id, result)
    except Exception as exc:
        if is_transient(exc) and attempt <= settings.render_retries:
            _give_back(services, render_id, attempt, ids, exc)  # raises: RQ's Retry runs it again
        # An invalid bill or template (or a bug) fails at once: running it again would not help,
        # so nothing is raised and RQ does not retry.
        if isinstance(exc, RenderError):
            log.warning("render failed", extra={**ids, "reason": type(exc).__name__})
            error = _public_error(exc)
        else:
            log.exception("render crashed", extra={**ids, "reason": type(exc).__name__})
            error = _crash_error(exc)
        finished = _finish(services, render_id, attempt, "failed", error=error)
        _observe(services, outputs, "failed", type(exc).__name__, started)
        return "failed" if finished else _status(services, render_id)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not _finish(services, render_id, attempt, "done", template_version=result.template_version):
        status = _status(services, render_id)
        if status == "missing":
            # Erased (or purged) while it rendered: what was just stored belongs to nobody.
            services.storage.delete_prefix(render_prefix(render_id))
            log.warning("render erased while it ran; its outputs are removed", extra=ids)
        else:
            log.warning("render superseded by a newer claim", extra=ids)
        return status
    _observe(services, outputs, "done", None, started)
    log.info("render done", extra=ids)
    return "done"


def _give_back(
    services: Services, render_id: str, attempt: int, ids: dict[str, Any], exc: BaseException
) -> None:
    """Back to `queued` for RQ's next try (or the sweeper's); raises TransientError."""
    with services.db.session() as session:
        session.execute(
            update(Render)
            .where(Render.id == render_id, Render.status == "rendering", Render.attempts == attempt)
            .values(status="queued", updated_at=utcnow())
        )
    log.warning("render will be retried", extra={**ids, "reason": type(exc).__name__})
    raise TransientError(f"render {render_id}: {type(exc).__name__}, retried later") from exc


def _crash_error(exc: BaseException) -> dict[str, str]:
    if is_transient(exc):
        return {"code": "storage_unavailable", "message": "the outputs could not be stored"}
    return {"code": "internal", "message": "the render failed unexpectedly"}


def _observe(
    services: Services, outputs: list[str], status: str, reason: str | None, started: float
) -> None:
    """Metrics hook: every run that ends (done or failed) passes here once."""
    from app.rendering.metrics import observe_render

    observe_render(services, outputs, status, reason, time.monotonic() - started)


def _status(services: Services, render_id: str) -> str:
    with services.db.session() as session:
        render_row = session.get(Render, render_id)
        return render_row.status if render_row else "missing"


def _public_error(exc: RenderError) -> dict[str, str]:
    """What the API and webhooks show: the first line only (tool logs stay out)."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return {"code": type(exc).__name__, "message": message[:500]}


def _claim(
    services: Services, render_id: str
) -> tuple[dict[str, Any], str, str | None, list[str], str, int, str, str | None, bool] | None:
    """Take the render: queued, or rendering but silent past the stuck bound (a dead worker).

    One conditional UPDATE, so of two workers given the same render only one wins; a render
    another worker is still rendering is left alone.
    """
    now = utcnow()
    stale = now - timedelta(seconds=services.settings.stuck_after_seconds)
    with services.db.session() as session:
        taken = session.execute(
            update(Render)
            .where(
                Render.id == render_id,
                or_(
                    Render.status == "queued",
                    and_(Render.status == "rendering", Render.updated_at < stale),
                ),
            )
            .values(status="rendering", attempts=Render.attempts + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) != 1:
            return None
        row = session.get(Render, render_id, populate_existing=True)
        assert row is not None
        return (
            row.bill, row.template, row.template_version_id, list(row.outputs), row.token,
            row.attempts, row.purpose, row.forced_tone, row.video_mode == "on_open",
        )  # fmt: skip


def _store_with_retry(services: Services, render_id: str, result: Outputs) -> None:
    """Store the outputs, retrying transient storage errors with backoff up to the bound."""
    store = retry(
        retry=retry_if_exception(is_transient),
        wait=wait_exponential_jitter(multiplier=0.2, max=STORE_BACKOFF_MAX_SECONDS),
        stop=stop_after_delay(services.settings.storage_retry_seconds),
        reraise=True,
        before_sleep=lambda state: log.warning(
            "storage failed, retrying", extra={"render_id": render_id, "try": state.attempt_number}
        ),
    )(_store)
    store(services, render_id, result)


def _store(services: Services, render_id: str, result: Outputs) -> None:
    files: dict[str, Path | None] = {
        "video.mp4": result.video,
        "poster.jpg": result.poster,
        "captions.vtt": result.captions,
        "chapters.vtt": result.chapters,
        "site/index.html": result.site,
    }
    for name, path in files.items():
        if path is not None:
            services.storage.put_file(
                output_key(render_id, name),
                path,
                content_type=CONTENT_TYPES[name],
                cache_control=OUTPUT_CACHE_CONTROL,
            )
    # A video made on open: its sound, kept for the video's run (private: never linked).
    kept = {SOUND_TRACK: (result.sound, "audio/mp4"),
            SOUND_PLAN: (result.sound_plan, "application/json")}  # fmt: skip
    for name, (path, content_type) in kept.items():
        if path is not None:
            services.storage.put_file(output_key(render_id, name), path,
                                      content_type=content_type,
                                      cache_control=OUTPUT_CACHE_CONTROL)  # fmt: skip


def _finish(
    services: Services,
    render_id: str,
    attempt: int,
    status: str,
    *,
    error: dict[str, Any] | None = None,
    template_version: str | None = None,
) -> bool:
    """Record the outcome if this run still holds the newest claim; False when superseded."""
    values: dict[str, Any] = {"status": status, "error": error, "finished_at": utcnow()}
    if template_version:
        values["template_version"] = template_version
    with services.db.session() as session:
        finished = session.execute(
            update(Render)
            .where(Render.id == render_id, Render.status == "rendering", Render.attempts == attempt)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(finished, "rowcount", 0) != 1:
            return False
        row = session.get(Render, render_id, populate_existing=True)
        assert row is not None
        # Same transaction as the outcome: a webhook is never lost, never doubled.
        enqueue_render_webhook(session, row, services.settings)
        step_render_finished(session, row, services.settings)
        return True


def abandon(services: Services, render_id: str, attempts: int) -> bool:
    """Fail a render whose every run died or timed out; False if it moved on meanwhile.

    The sweeper calls it instead of enqueueing once more, so a render that can never finish
    in time ends `failed` (with its webhook) rather than going round for ever.
    """
    error = {"code": "abandoned", "message": f"the render did not finish in {attempts} attempts"}
    with services.db.session() as session:
        taken = session.execute(
            update(Render)
            .where(
                Render.id == render_id,
                Render.status.in_(("queued", "rendering")),
                Render.attempts == attempts,
            )
            .values(status="failed", error=error, finished_at=utcnow(), updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) != 1:
            return False
        row = session.get(Render, render_id, populate_existing=True)
        assert row is not None
        enqueue_render_webhook(session, row, services.settings)
        step_render_finished(session, row, services.settings)
    log.warning("render abandoned", extra={"render_id": render_id, "attempts": attempts})
    return True


def remove_stale_workdirs(settings: Settings) -> int:
    """Delete render work directories left by runs that died (SIGKILL, a machine restarted).

    A directory older than `stuck_after_seconds` (longer than any run may last) belongs to
    no live run, whichever worker on this machine made it. Returns how many were removed.
    """
    if not settings.work_dir.is_dir():
        return 0
    before = time.time() - settings.stuck_after_seconds
    removed = 0
    for path in settings.work_dir.glob("render-*"):
        try:
            stale = path.is_dir() and path.stat().st_mtime < before
        except FileNotFoundError:  # another worker removed it just now
            continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    if removed:
        log.warning("removed work directories of dead runs", extra={"count": removed})
    return removed
