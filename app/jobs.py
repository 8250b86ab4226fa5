"""The render job: load, render, store, record. Orchestration only; the work is in renderers.

`run_render(render_id)` is what RQ calls; the in-process queue calls `run_render_with`
with the services it already has. Both are the same code path.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from app.db import Render, utcnow
from app.links import site_links
from app.services import Services
from app.settings import Settings
from app.storage import CONTENT_TYPES, output_key
from app.webhooks import enqueue_render_webhook
from renderers import Outputs, render
from renderers.errors import RenderError
from renderers.templates import load_bundle

log = logging.getLogger(__name__)

# Outputs are immutable once written (a new render gets a new id), so caches may keep them.
OUTPUT_CACHE_CONTROL = "private, max-age=31536000, immutable"

_worker_services: Services | None = None
_worker_lock = threading.Lock()


def run_render(render_id: str) -> str:
    """RQ entry point: services come from the environment, built once per worker process."""
    global _worker_services
    with _worker_lock:
        if _worker_services is None:
            _worker_services = Services.build(Settings.from_env())
    return run_render_with(_worker_services, render_id)


def run_render_with(services: Services, render_id: str) -> str:
    """Render one accepted render; returns its final status. Safe to call twice."""
    claimed = _claim(services, render_id)
    if claimed is None:
        with services.db.session() as session:
            render_row = session.get(Render, render_id)
            return render_row.status if render_row else "missing"
    bill, template, outputs, token = claimed
    workdir = Path(tempfile.mkdtemp(prefix="render-", dir=services.settings.work_dir))
    try:
        bundle = load_bundle(template)
        result = render(bill, bundle, outputs, workdir, links=site_links(token, bill))
        _store(services, render_id, result)
    except RenderError as exc:
        log.warning("render failed", extra={"render_id": render_id, "reason": type(exc).__name__})
        _finish(services, render_id, "failed", error=_public_error(exc))
        return "failed"
    except Exception:
        log.exception("render crashed", extra={"render_id": render_id})
        _finish(
            services,
            render_id,
            "failed",
            error={"code": "internal", "message": "the render failed unexpectedly"},
        )
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _finish(services, render_id, "done", template_version=result.template_version)
    log.info("render done", extra={"render_id": render_id})
    return "done"


def _public_error(exc: RenderError) -> dict[str, str]:
    """What the API and webhooks show: the first line only (tool logs stay out)."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return {"code": type(exc).__name__, "message": message[:500]}


def _claim(services: Services, render_id: str) -> tuple[dict[str, Any], str, list[str], str] | None:
    with services.db.session() as session:
        row = session.get(Render, render_id, with_for_update=True)
        if row is None or row.status in ("done", "failed"):
            return None
        row.status = "rendering"
        row.attempts += 1
        return row.bill, row.template, list(row.outputs), row.token


def _store(services: Services, render_id: str, result: Outputs) -> None:
    files: dict[str, Path | None] = {
        "video.mp4": result.video,
        "poster.jpg": result.poster,
        "captions.vtt": result.captions,
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


def _finish(
    services: Services,
    render_id: str,
    status: str,
    *,
    error: dict[str, Any] | None = None,
    template_version: str | None = None,
) -> None:
    with services.db.session() as session:
        row = session.get(Render, render_id)
        if row is None:
            return
        row.status = status
        row.error = error
        row.finished_at = utcnow()
        if template_version:
            row.template_version = template_version
        # Same transaction as the outcome: a webhook is never lost, never doubled.
        enqueue_render_webhook(session, row, services.settings)
