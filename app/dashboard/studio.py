"""`/dashboard/studio`: marketing's template studio, for people who have never seen YAML.

Pages are HTML shells; a small script of our own (`static/studio/*.js`, ES modules, no
framework) draws the forms and talks to the JSON endpoints under `/dashboard/studio/api/`.
The pages have their own Content-Security-Policy: scripts only from this origin, no inline
script, frames only of this origin; the editor for code is CodeMirror 6, bundled and served
here (`tools/codemirror/`).

Access: the dashboard's session cookie, of a key whose scope may write templates (marketing
or admin, `app.access.scopes`); a billing key's session gets 403. Every write needs the
`X-Studio-Request` header (no form or other site can send it: a cross-origin request with it
is preflighted and refused) and comes from this origin (`Sec-Fetch-Site`, `Origin`).

The editing model is `app.studio` (files to forms and edits back); the store is
`app.templates` (versions, If-Match saves, publish, diff); previews are drawn by
`app.dashboard.studio_preview` over synthetic sample bills.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import flask
from flask import Blueprint, current_app, redirect, render_template, request
from werkzeug.wrappers import Response

from app.access.sessions import LiveSession
from app.audit.trail import record
from app.dashboard import studio_preview as preview
from app.dashboard.views import current_session, same_origin, sees_studio
from app.delivery.links import public_links
from app.infra.database import Render
from app.infra.services import Services
from app.preview.requests import request_preview_video
from app.preview.samples import UnknownSample
from app.studio.conflicts import conflicts
from app.studio.edits import apply_edits, changes
from app.studio.errors import EditRefused
from app.studio.forms import read_form
from app.templates.assets import asset_problem
from app.templates.bundles import bundle_for, bundle_from_files
from app.templates.files import MAX_TOTAL_BYTES, BundleRefused, digest, kind_of, path_problem
from app.templates.lookup import ensure_shipped
from app.templates.store import (
    NotADraft,
    PublishRefused,
    StaleVersion,
    VersionInfo,
    VersionNotFound,
    create_draft,
    diff,
    get_version,
    list_templates,
    list_versions,
    publish,
    read_files,
    save_draft,
)
from app.templates.validation import validate
from renderers.errors import RenderError, TemplateError

bp = Blueprint(
    "studio",
    __name__,
    template_folder="templates",
    static_folder="static/studio",
    static_url_path="/dashboard/studio/static",
)

WRITE_HEADER = "X-Studio-Request"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' blob: data:; connect-src 'self'; frame-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}
# An upload carries the music too, in base64 (4/3 larger), beside the edits before it.
MAX_REQUEST_BYTES = MAX_TOTAL_BYTES * 4 // 3 + 1024 * 1024
FILES_CACHED = 16  # versions' files kept in memory, by digest (immutable)

_files: OrderedDict[str, dict[str, bytes]] = OrderedDict()
_files_lock = threading.Lock()


class Refused(Exception):
    """An API answer other than 200: its status and JSON body."""

    def __init__(self, status: int, message: str, **extra: Any):
        self.status = status
        self.body = {"error": message, **extra}
        super().__init__(message)


def _services() -> Services:
    services: Services = current_app.extensions["billreel"]
    return services


def _json(body: Any, status: int = 200) -> Response:
    response = current_app.response_class(
        flask.json.dumps(body), status=status, mimetype="application/json"
    )
    response.headers.update(HEADERS)
    return response


def _page(template: str, status: int = 200, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers.update(HEADERS)
    return response


@bp.after_request
def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/dashboard/studio/static/"):
        response.headers["Cache-Control"] = "no-cache"  # revalidated: a deploy shows at once
    return response


@bp.before_request
def _allow_uploads() -> None:
    request.max_content_length = MAX_REQUEST_BYTES


def _session(api: bool) -> LiveSession | Response:
    session = current_session()
    if session is None:
        if api:
            return _json({"error": "log in again: the session has ended"}, 401)
        return _redirect("/dashboard")
    if not sees_studio(session):
        if api:
            return _json({"error": "the studio is for marketing and admin keys"}, 403)
        return _page("dashboard/error.html", 403, code=403,
                     text="The studio is for marketing and admin keys.")  # fmt: skip
    return session


def _redirect(path: str) -> Response:
    response = redirect(path, code=303)
    response.headers.update(HEADERS)
    return response


def _found(name: str, number: int) -> VersionInfo:
    try:
        return get_version(_services().db, name, number)
    except VersionNotFound as exc:
        raise Refused(404, str(exc)) from exc


def files_of(version: VersionInfo) -> dict[str, bytes]:
    """A version's files, read from storage once per process (a digest names them for good)."""
    with _files_lock:
        known = _files.get(version.digest)
        if known is not None:
            _files.move_to_end(version.digest)
            return dict(known)
    files = read_files(_services(), version)
    with _files_lock:
        _files[version.digest] = files
        while len(_files) > FILES_CACHED:
            _files.popitem(last=False)
    return dict(files)


def api(write: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """A JSON endpoint: a studio session, and for writes the header and this origin."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Response]:
        def handler(**kwargs: Any) -> Response:
            session = _session(api=True)
            if isinstance(session, Response):
                return session
            if write and (request.headers.get(WRITE_HEADER) != "1" or not same_origin()):
                return _json({"error": "studio writes come from the studio's own pages"}, 403)
            try:
                return _json(view(session, **kwargs))
            except Refused as exc:
                return _json(exc.body, exc.status)
            except EditRefused as exc:
                return _json({"error": exc.message, "field": exc.field}, 422)

        handler.__name__ = view.__name__
        return handler

    return wrap


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Refused(400, "the body is a JSON object")
    return body


def _edits(body: dict[str, Any]) -> list[Any]:
    edits = body.get("edits", [])
    if not isinstance(edits, list):
        raise EditRefused("edits", "a list of edits")
    return edits


def version_json(version: VersionInfo) -> dict[str, Any]:
    return {
        "template": version.template, "number": version.number, "ref": version.ref,
        "state": version.state, "etag": version.etag, "revision": version.revision,
        "digest": version.digest, "author": version.author, "updated_by": version.updated_by,
        "message": version.message, "parent": version.parent,
        "created_at": version.created_at.isoformat(), "updated_at": version.updated_at.isoformat(),
        "published_at": version.published_at.isoformat() if version.published_at else None,
    }  # fmt: skip


def _texts(files: dict[str, bytes]) -> dict[str, Any]:
    """Each file for the code view: its text, or its size when it is not text."""
    out: dict[str, Any] = {}
    for path, data in sorted(files.items()):
        text = None
        if kind_of(path) == "text":
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        out[path] = {"text": text, "size": len(data), "kind": kind_of(path)}
    return out


class _Memo:
    """A small LRU of results worked out from immutable inputs (files by their digest, a
    version's files with a list of edits): an editor sends the whole list on every change,
    and the list grows by one edit at a time."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: Any) -> Any:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


_worked = _Memo(256)  # (version digest, edits) -> files
_checked = _Memo(64)  # files digest -> (form, problems)


def _edits_key(digest: str, edits: list[Any]) -> str:
    text = flask.json.dumps(edits, sort_keys=True)
    return digest + hashlib.sha256(text.encode()).hexdigest()


def _working(version: VersionInfo, edits: list[Any]) -> dict[str, bytes]:
    """The version's files with `edits` made, from the longest list already worked out."""
    start, files = 0, None
    for cut in (len(edits), len(edits) - 1):
        if cut >= 0:
            files = _worked.get(_edits_key(version.digest, edits[:cut]))
            if files is not None:
                start = cut
                break
    if files is None:
        files = files_of(version)
    for i in range(start, len(edits)):
        files = _worked.put(_edits_key(version.digest, edits[: i + 1]),
                            apply_edits(files, [edits[i]]))  # fmt: skip
    return dict(files)


def _checked_form(files: dict[str, bytes], name: str) -> tuple[dict[str, Any], list[Any]]:
    """The form and the validation problems of `files` (worked out once per content)."""
    key = f"{name}:{digest(files)}"
    known = _checked.get(key)
    if known is None:
        known = _checked.put(key, (read_form(files), [p.as_dict() for p in validate(files, name)]))
    form, problems = known
    return form, problems


# --- pages ---------------------------------------------------------------------------------


@bp.get("/dashboard/studio")
def templates_page() -> Response:
    session = _session(api=False)
    if isinstance(session, Response):
        return session
    ensure_shipped(_services())
    return _page("dashboard/studio/list.html", templates=list_templates(_services().db),
                 studio=True, logged_in=True)  # fmt: skip


@bp.get("/dashboard/studio/<name>")
def template_page(name: str) -> Response:
    session = _session(api=False)
    if isinstance(session, Response):
        return session
    try:
        versions = list_versions(_services().db, name)
    except VersionNotFound:
        return _page("dashboard/error.html", 404, code=404, text="There is no such template.")
    draft = next((v for v in versions if v.state == "draft"), None)
    shown = draft or next((v for v in versions if v.state == "published"), versions[0])
    return _redirect(f"/dashboard/studio/{name}/{shown.number}")


@bp.get("/dashboard/studio/<name>/<int:number>")
def editor_page(name: str, number: int) -> Response:
    session = _session(api=False)
    if isinstance(session, Response):
        return session
    try:
        version = get_version(_services().db, name, number)
    except VersionNotFound:
        return _page("dashboard/error.html", 404, code=404, text="There is no such version.")
    return _page("dashboard/studio/editor.html", version=version, studio=True, logged_in=True)


# --- the API -------------------------------------------------------------------------------


@bp.get("/dashboard/studio/api/<name>/<int:number>")
@api()
def state(_: LiveSession, name: str, number: int) -> dict[str, Any]:
    version = _found(name, number)
    files = files_of(version)
    _remember_seen(version)
    history = list_versions(_services().db, name)
    form, problems = _checked_form(files, name)
    return {
        "version": version_json(version),
        "versions": [version_json(v) for v in history],
        "form": form,
        "files": _texts(files),
        "problems": problems,
        "samples": {"endings": list(preview.ENDINGS), "formats": ["16:9", "9:16", "1:1"]},
    }


@bp.post("/dashboard/studio/api/<name>/<int:number>/form")
@api(write=True)
def working_form(_: LiveSession, name: str, number: int) -> dict[str, Any]:
    """The form and the problems of the version with the unsaved `edits` made."""
    version = _found(name, number)
    base = files_of(version)
    files = _working(version, _edits(_body()))
    changed = changes(base, files)
    form, problems = _checked_form(files, name)
    return {
        "form": form,
        "problems": problems,
        "changed": {p: _texts({p: d})[p] if d is not None else None for p, d in changed.items()},
    }


@bp.post("/dashboard/studio/api/<name>/<int:number>/save")
@api(write=True)
def save(session: LiveSession, name: str, number: int) -> dict[str, Any]:
    body = _body()
    edits = _edits(body)
    if_match = request.headers.get("If-Match", "").strip().strip('"')
    if not if_match:
        raise Refused(428, "a save names the version it edits (If-Match)")
    version = _found(name, number)
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        raise EditRefused("message", "a string")
    try:
        if version.etag != if_match:
            raise StaleVersion(version)
        base_files = files_of(version)
        new = _working(version, edits)
        saved = save_draft(_services(), name, number, if_match=if_match,
                           changes=changes(base_files, new), author=session.key_name,
                           message=message)  # fmt: skip
    except StaleVersion as exc:
        raise _conflict(name, number, if_match, edits, exc.current) from exc
    except NotADraft as exc:
        raise Refused(409, str(exc)) from exc
    except BundleRefused as exc:
        raise Refused(422, "the store refused a file", problems=[
            {"file": p, "message": m} for p, m in exc.problems]) from exc  # fmt: skip
    _audit(session, "template.save", saved)
    _remember_seen(saved)
    return {"version": version_json(saved)}


def _conflict(name: str, number: int, seen: str, edits: list[Any], now: VersionInfo) -> Refused:
    """412: the other editor's version, and each of my edits beside theirs (nothing lost)."""
    theirs = files_of(now)
    items = conflicts(_version_at(seen), theirs, edits)
    return Refused(412, f"{now.ref} was saved by {now.updated_by} since you opened it",
                   current=version_json(now), items=items)  # fmt: skip


# The files each etag a session loaded, so a conflict can show what each side changed.
_seen: OrderedDict[str, str] = OrderedDict()  # etag -> digest


def _remember_seen(version: VersionInfo) -> None:
    with _files_lock:
        _seen[version.etag] = version.digest
        while len(_seen) > 256:
            _seen.popitem(last=False)


def _version_at(etag: str) -> dict[str, bytes] | None:
    """The files a save's If-Match named, when this process served them."""
    with _files_lock:
        digest = _seen.get(etag)
        files = _files.get(digest) if digest else None
    return dict(files) if files is not None else None


@bp.post("/dashboard/studio/api/<name>/<int:number>/publish")
@api(write=True)
def publish_version(session: LiveSession, name: str, number: int) -> dict[str, Any]:
    """Publish the saved version (an older one: the rollback) and say what was checked."""
    _found(name, number)
    try:
        version, report = publish(_services(), name, number, author=session.key_name,
                                  checks=preview_checks())  # fmt: skip
    except PublishRefused as exc:
        raise Refused(422, str(exc), report=exc.report) from exc
    except StaleVersion as exc:
        raise Refused(412, f"{exc.current.ref} was saved while it was checked",
                      current=version_json(exc.current)) from exc  # fmt: skip
    _audit(session, "template.publish", version)
    return {"version": version_json(version), "report": report}


def preview_checks() -> Callable[[VersionInfo], dict[str, Any]]:
    """What a draft must pass besides validating: every sample renders, in every locale and
    format (`app.preview.checks`)."""
    services = _services()

    def check(version: VersionInfo) -> dict[str, Any]:
        return preview.checks(bundle_for(services, version), version.digest)

    return check


@bp.post("/dashboard/studio/api/<name>/drafts")
@api(write=True)
def new_draft(session: LiveSession, name: str) -> dict[str, Any]:
    source = _body().get("from")
    if not isinstance(source, int) or isinstance(source, bool):
        raise EditRefused("from", "the number of the version to start from")
    _found(name, source)
    version = create_draft(_services(), name, author=session.key_name,
                           message=f"Draft from {name}@{source}", from_number=source)  # fmt: skip
    _audit(session, "template.draft", version)
    return {"version": version_json(version), "url": f"/dashboard/studio/{name}/{version.number}"}


@bp.get("/dashboard/studio/api/<name>/diff")
@api()
def version_diff(_: LiveSession, name: str) -> dict[str, Any]:
    try:
        a, b = int(request.args.get("a", "")), int(request.args.get("b", ""))
    except ValueError as exc:
        raise Refused(400, "a and b are version numbers") from exc
    _found(name, a)
    _found(name, b)
    return {"a": a, "b": b, "files": [
        {"path": d.path, "change": d.change, "binary": d.binary, "unified": d.unified,
         "sizes": list(d.sizes)} for d in diff(_services(), name, a, b)]}  # fmt: skip


@bp.post("/dashboard/studio/api/check-asset")
@api(write=True)
def check_asset(_: LiveSession) -> dict[str, Any]:
    """The store's checks of an upload, before it becomes an edit."""
    body = _body()
    path = body.get("path")
    if not isinstance(path, str):
        raise EditRefused("path", "a file path")
    try:
        data = base64.b64decode(str(body.get("data", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EditRefused("data", "not base64") from exc
    problem = path_problem(path) or asset_problem(path, data)
    return {"path": path, "size": len(data), "ok": problem is None, "problem": problem}


def _bundle(version: VersionInfo, edits: list[Any]) -> Any:
    files = _working(version, edits)
    try:
        return bundle_from_files(_services(), version.template, files, version.number)
    except TemplateError as exc:
        raise Refused(422, f"the template does not load: {exc}") from exc


def _sample(body: dict[str, Any]) -> tuple[str, str, str]:
    ending, locale, fmt = body.get("ending"), body.get("locale"), body.get("format", "16:9")
    if not all(isinstance(v, str) for v in (ending, locale, fmt)):
        raise EditRefused("sample", "ending, locale and format are names")
    return str(ending), str(locale), str(fmt)


@bp.post("/dashboard/studio/api/<name>/<int:number>/preview/frames")
@api(write=True)
def preview_frames(_: LiveSession, name: str, number: int) -> dict[str, Any]:
    body = _body()
    ending, locale, fmt = _sample(body)
    t = body.get("t", 0.0)
    if isinstance(t, bool) or not isinstance(t, int | float):
        raise EditRefused("t", "seconds into the video")
    bundle = _bundle(_found(name, number), _edits(body))
    try:
        return preview.frames(bundle, ending, locale, fmt, float(t))
    except preview.UnknownSample as exc:
        raise EditRefused("sample", str(exc)) from exc
    except (RenderError, TemplateError) as exc:
        raise Refused(422, f"the preview failed: {exc}") from exc


@bp.post("/dashboard/studio/api/<name>/<int:number>/preview/site")
@api(write=True)
def preview_site(_: LiveSession, name: str, number: int) -> dict[str, Any]:
    body = _body()
    ending, locale, _fmt = _sample(body)
    bundle = _bundle(_found(name, number), _edits(body))
    try:
        return {"html": preview.site(bundle, ending, locale)}
    except preview.UnknownSample as exc:
        raise EditRefused("sample", str(exc)) from exc
    except (RenderError, TemplateError) as exc:
        raise Refused(422, f"the microsite failed: {exc}") from exc


@bp.post("/dashboard/studio/api/<name>/<int:number>/preview/grid")
@api(write=True)
def preview_grid(_: LiveSession, name: str, number: int) -> dict[str, Any]:
    body = _body()
    scene = body.get("scene")
    if not isinstance(scene, str):
        raise EditRefused("scene", "a scene id")
    bundle = _bundle(_found(name, number), _edits(body))
    return {"scene": scene, "cells": preview.grid(bundle, scene)}


@bp.post("/dashboard/studio/api/<name>/<int:number>/preview/video")
@api(write=True)
def preview_video(session: LiveSession, name: str, number: int) -> dict[str, Any]:
    """Queue the full video of a sample bill with the saved version, stamped PREVIEW on every
    frame (`app.preview.requests`: the on-demand queue, no webhook, no billing run)."""
    body = _body()
    ending, locale, _fmt = _sample(body)
    version = _found(name, number)
    try:
        render_id = request_preview_video(
            _services(), bundle_for(_services(), version), version_id=version.id,
            ending=ending, locale=locale, account=session.account,
        )  # fmt: skip
    except UnknownSample as exc:
        raise EditRefused("sample", str(exc)) from exc
    return _preview_render(session, render_id)


@bp.get("/dashboard/studio/api/preview-videos/<render_id>")
@api()
def preview_video_state(session: LiveSession, render_id: str) -> dict[str, Any]:
    return _preview_render(session, render_id)


def _preview_render(session: LiveSession, render_id: str) -> dict[str, Any]:
    """A preview video's state and, once done, its links (only this account's previews)."""
    with _services().db.session() as db:
        render = db.get(Render, render_id)
        if render is None or render.purpose != "preview" or render.api_key_id != session.account:
            raise Refused(404, "there is no such preview video")
        done = render.status == "done"
        return {
            "id": render.id,
            "status": render.status,
            "template": render.template_version,
            "links": public_links("", render.token, ["video"]) if done else None,
        }


def _audit(session: LiveSession, action: str, version: VersionInfo) -> None:
    record(
        _services().db, actor_type="session", actor_id=session.id, account=session.account,
        action=action, target=version.id, request_id=flask.g.get("request_id"), status=200,
    )  # fmt: skip
