"""`/v1/templates`: templates as versioned data (`app.templates`), for marketing keys.

List templates and versions, read a version and its files, make a draft (from an upload,
a zip or a JSON map of files, or from a version), save a draft's files with `If-Match` on
its ETag (a stale save gets 412 naming the newer version, nothing is lost), compare two
versions, publish (a rollback is publishing an older version) and archive. A billing key
reads; a marketing or admin key writes (`app.access.scopes`).
"""

from __future__ import annotations

import base64
import binascii
import io
import zipfile
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from flask import Blueprint, Response, g, request
from pydantic import BaseModel, ConfigDict, Field

from app.api import idempotency
from app.api.body import read_json_body, require_content_type, validated
from app.api.context import account_id, once_per_idempotency_key, services
from app.infra.database import Render
from app.infra.errors import (
    FieldError,
    InvalidInput,
    MalformedRequest,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    RefusedChange,
)
from app.infra.storage import output_key
from app.preview.checks import publish_outcome
from app.preview.grid import UnknownScene
from app.preview.requests import request_preview_video
from app.preview.samples import UnknownSample, check_locale, template_locales
from app.preview.site import site_html
from app.preview.stills import PREVIEWS, frame_at, poster
from app.templates.bundles import bundle_for
from app.templates.files import MAX_FILES, MAX_TOTAL_BYTES, BundleRefused, kind_of
from app.templates.lookup import ensure_shipped
from app.templates.store import (
    FileDiff,
    NotADraft,
    PublishRefused,
    StaleVersion,
    VersionInfo,
    VersionNotFound,
    archive,
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

bp = Blueprint("templates", __name__, url_prefix="/templates")

# An upload carries the music too; JSON carries binary files in base64 (4/3 larger).
MAX_UPLOAD_BYTES = MAX_TOTAL_BYTES * 4 // 3 + 64 * 1024


class Base64File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base64: str = Field(description="The file's bytes, base64-encoded (images, audio)")


FileValue = str | Base64File


class DraftIn(BaseModel):
    """A new draft: `files` (every file of the version) or `from` (a version to copy)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    files: dict[str, FileValue] | None = Field(
        None, max_length=MAX_FILES, description="path -> UTF-8 text, or {base64} for binaries"
    )
    from_: int | None = Field(None, alias="from", ge=1, description="Copy this version")
    message: str = Field("", max_length=2000, description="Why this version exists")


class DraftChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    files: dict[str, FileValue | None] = Field(
        max_length=MAX_FILES, description="path -> new content; null deletes the file"
    )
    message: str | None = Field(None, max_length=2000)


class TemplateOut(BaseModel):
    name: str
    published: int | None = Field(description="The published version's number")
    versions: int
    drafts: int
    updated_at: datetime


class TemplateList(BaseModel):
    data: list[TemplateOut]


class FileOut(BaseModel):
    path: str
    sha256: str
    size: int


class VersionOut(BaseModel):
    id: str
    template: str
    number: int
    ref: str = Field(description="NAME@N, as renders name it")
    state: Literal["draft", "published", "archived"]
    digest: str = Field(description="SHA-256 of the version's files (its content address)")
    etag: str = Field(description="Send it as If-Match to save a draft")
    revision: int = Field(description="Saves of this draft so far")
    parent: int | None = Field(description="The version this draft was made from")
    author: str = Field(description="The name of the API key that made it")
    updated_by: str
    message: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    files: list[FileOut]


class VersionList(BaseModel):
    data: list[VersionOut]


class VersionFiles(BaseModel):
    ref: str
    etag: str
    files: dict[str, FileValue] = Field(description="path -> text, or {base64} for binaries")


class FileChange(BaseModel):
    path: str
    change: Literal["added", "removed", "modified"]
    binary: bool
    diff: str | None = Field(description="A unified diff of a text file")
    size_before: int | None
    size_after: int | None


class DiffOut(BaseModel):
    template: str
    from_: int = Field(alias="from")
    to: int
    files: list[FileChange]


class ProblemOut(BaseModel):
    file: str | None
    line: int | None
    path: str | None
    message: str


class ProblemsOut(BaseModel):
    ref: str
    problems: list[ProblemOut]


class PublishOut(BaseModel):
    version: VersionOut
    checked: dict[str, Any] = Field(description="Every check made before publishing")


def _actor() -> str:
    """A version's author: the API key's name (a label, never a secret)."""
    name: str = g.api_key_name
    return name


def version_body(version: VersionInfo) -> dict[str, Any]:
    return VersionOut(
        id=version.id, template=version.template, number=version.number, ref=version.ref,
        state=version.state, digest=version.digest, etag=version.etag,
        revision=version.revision, parent=version.parent, author=version.author,
        updated_by=version.updated_by, message=version.message,
        created_at=version.created_at, updated_at=version.updated_at,
        published_at=version.published_at,
        files=[
            FileOut(path=path, sha256=str(entry["sha256"]), size=int(entry["size"]))
            for path, entry in sorted(version.files.items())
        ],
    ).model_dump(mode="json")  # fmt: skip


def _version_response(version: VersionInfo, status: int = 200) -> Response:
    body = idempotency.json_bytes(version_body(version))
    headers = {"Content-Type": "application/json", "ETag": f'"{version.etag}"'}
    if status == 201:
        headers["Location"] = f"/v1/templates/{version.template}/versions/{version.number}"
    return Response(body, status=status, headers=headers)


def _found(name: str, number: int) -> VersionInfo:
    try:
        return get_version(services().db, name, number)
    except VersionNotFound as exc:
        raise NotFound(str(exc)) from exc


def _decode(files: dict[str, FileValue | None], pointer: str) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    errors = []
    for path, value in files.items():
        if value is None:
            out[path] = None
        elif isinstance(value, Base64File):
            try:
                out[path] = base64.b64decode(value.base64, validate=True)
            except (binascii.Error, ValueError):
                errors.append(FieldError(f"{pointer}/{_escape(path)}/base64", "not base64"))
        else:
            if kind_of(path) != "text":
                errors.append(
                    FieldError(f"{pointer}/{_escape(path)}", "a binary file is sent as {base64}")
                )
            out[path] = value.encode("utf-8")
    if errors:
        raise InvalidInput(errors)
    return out


def _escape(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


def _refused(exc: BundleRefused, pointer: str) -> InvalidInput:
    return InvalidInput(
        [FieldError(f"{pointer}/{_escape(p)}" if "/" in p else pointer, m) for p, m in exc.problems]
    )


def _unzip(data: bytes) -> dict[str, bytes]:
    """A zip's files by path; one folder around them all (a zipped folder) is dropped. Sizes
    are checked from the directory before anything is inflated (no zip bomb)."""
    try:
        archive_ = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise MalformedRequest(f"the body is not a zip file: {exc}") from exc
    entries = [i for i in archive_.infolist() if not i.is_dir()]
    if len(entries) > MAX_FILES:
        raise InvalidInput([FieldError("", f"a version has at most {MAX_FILES} files")])
    if sum(i.file_size for i in entries) > MAX_TOTAL_BYTES:
        raise InvalidInput([FieldError("", "the files are too large once unzipped")])
    names = [i.filename for i in entries]
    tops = {n.split("/", 1)[0] for n in names}
    strip = ""
    if len(tops) == 1 and not {"scenes", "microsite"} & tops and all("/" in n for n in names):
        strip = tops.pop() + "/"
    files: dict[str, bytes] = {}
    for info in entries:
        with archive_.open(info) as handle:
            content = handle.read(info.file_size + 1)
        if len(content) != info.file_size:
            raise InvalidInput([FieldError("", f"{info.filename}: its size is not as declared")])
        files[info.filename.removeprefix(strip)] = content
    return files


@bp.before_request
def _prepare() -> None:
    request.max_content_length = MAX_UPLOAD_BYTES
    ensure_shipped(services())  # the shipped bundles are first versions, whatever is asked


@bp.get("")
def templates_list() -> dict[str, Any]:
    return TemplateList(
        data=[
            TemplateOut(
                name=t.name,
                published=t.published,
                versions=t.versions,
                drafts=t.drafts,
                updated_at=t.updated_at,
            )
            for t in list_templates(services().db)
        ]
    ).model_dump(mode="json")


@bp.get("/<name>/versions")
def versions_list(name: str) -> dict[str, Any]:
    try:
        versions = list_versions(services().db, name)
    except VersionNotFound as exc:
        raise NotFound(str(exc)) from exc
    return {"data": [version_body(v) for v in versions]}


@bp.get("/<name>/versions/<int:number>")
def version_get(name: str, number: int) -> Response:
    return _version_response(_found(name, number))


@bp.get("/<name>/versions/<int:number>/files")
def version_files(name: str, number: int) -> Response:
    """Every file of a version: text as text, images and audio as {base64}."""
    version = _found(name, number)
    files = read_files(services(), version)
    body = {
        "ref": version.ref,
        "etag": version.etag,
        "files": {
            path: data.decode("utf-8")
            if kind_of(path) == "text"
            else {"base64": base64.b64encode(data).decode("ascii")}
            for path, data in sorted(files.items())
        },
    }
    return Response(
        idempotency.json_bytes(body),
        headers={"Content-Type": "application/json", "ETag": f'"{version.etag}"'},
    )


@bp.post("/<name>/versions")
def version_create(name: str) -> Response:
    return once_per_idempotency_key(lambda: _create(name))


def _create(name: str) -> Response:
    if request.mimetype in ("application/zip", "application/x-zip-compressed"):
        files: dict[str, bytes] | None = _unzip(request.get_data(cache=True))
        message = request.args.get("message", "")[:2000]
        from_number = None
        pointer = ""
    else:
        require_content_type("application/json", "application/zip")
        raw, _ = read_json_body()
        draft = validated(DraftIn, raw)
        if (draft.files is None) == (draft.from_ is None):
            raise InvalidInput([FieldError("", "send either files or from, not both")])
        decoded = _decode(dict(draft.files), "/files") if draft.files is not None else None
        files = {p: d for p, d in decoded.items() if d is not None} if decoded else None
        message, from_number, pointer = draft.message, draft.from_, "/files"
    try:
        version = create_draft(
            services(), name, author=_actor(), message=message, files=files,
            from_number=from_number,
        )  # fmt: skip
    except VersionNotFound as exc:
        raise InvalidInput([FieldError("/from", str(exc))]) from exc
    except BundleRefused as exc:
        raise _refused(exc, pointer) from exc
    return _version_response(version, 201)


@bp.patch("/<name>/versions/<int:number>")
def version_save(name: str, number: int) -> Response:
    """Save a draft's files. `If-Match` must carry the ETag the change was made against."""
    if_match = request.headers.get("If-Match", "").strip()
    if not if_match:
        raise PreconditionRequired("send If-Match with the version's ETag (from GET or a save)")
    raw, _ = read_json_body()
    change = validated(DraftChange, raw)
    changes = _decode(dict(change.files), "/files")
    _found(name, number)
    try:
        version = save_draft(
            services(), name, number, if_match=if_match.strip('"').removeprefix("W/").strip('"'),
            changes=changes, author=_actor(), message=change.message,
        )  # fmt: skip
    except StaleVersion as exc:
        current = exc.current
        raise PreconditionFailed(
            f"{current.ref} was saved by {current.updated_by} since your copy; "
            "read it again, merge your change and save with its ETag",
            {
                "etag": current.etag, "revision": current.revision,
                "updated_by": current.updated_by, "updated_at": current.updated_at.isoformat(),
            },
            headers={"ETag": f'"{current.etag}"'},
        ) from exc  # fmt: skip
    except NotADraft as exc:
        raise RefusedChange(str(exc)) from exc
    except BundleRefused as exc:
        raise _refused(exc, "/files") from exc
    return _version_response(version)


@bp.get("/<name>/diff")
def versions_diff(name: str) -> dict[str, Any]:
    """What changed between two versions (`?from=A&to=B`), file by file."""
    errors = []
    numbers: dict[str, int] = {}
    for arg in ("from", "to"):
        value = request.args.get(arg, "")
        if not value.isdigit() or int(value) < 1:
            errors.append(FieldError(f"/{arg}", "a version number (a positive integer)"))
        else:
            numbers[arg] = int(value)
    if errors:
        raise InvalidInput(errors)
    _found(name, numbers["from"])
    _found(name, numbers["to"])
    changes: list[FileDiff] = diff(services(), name, numbers["from"], numbers["to"])
    return {
        "template": name,
        "from": numbers["from"],
        "to": numbers["to"],
        "files": [
            {
                "path": c.path,
                "change": c.change,
                "binary": c.binary,
                "diff": c.unified,
                "size_before": c.sizes[0],
                "size_after": c.sizes[1],
            }
            for c in changes
        ],
    }


@bp.get("/<name>/versions/<int:number>/problems")
def version_problems(name: str, number: int) -> dict[str, Any]:
    """Every validation problem of a version, at its file and line (empty: it loads)."""
    version = _found(name, number)
    problems = validate(read_files(services(), version), name)
    return {"ref": version.ref, "problems": [p.as_dict() for p in problems]}


@bp.post("/<name>/versions/<int:number>/publish")
def version_publish(name: str, number: int) -> Response:
    return once_per_idempotency_key(lambda: _publish(name, number))


def _publish(name: str, number: int) -> Response:
    _found(name, number)
    checks = services_publish_checks()
    try:
        version, report = publish(services(), name, number, author=_actor(), checks=checks)
    except PublishRefused as exc:
        raise RefusedChange(str(exc), exc.report) from exc
    except StaleVersion as exc:
        raise PreconditionFailed(
            f"{exc.current.ref} was saved while it was checked; publish it again",
            {"etag": exc.current.etag, "revision": exc.current.revision},
        ) from exc
    body = {"version": version_body(version), "checked": report}
    return Response(idempotency.json_bytes(body), headers={"Content-Type": "application/json"})


@bp.post("/<name>/versions/<int:number>/archive")
def version_archive(name: str, number: int) -> Response:
    return once_per_idempotency_key(lambda: _archive(name, number))


def _archive(name: str, number: int) -> Response:
    _found(name, number)
    try:
        version = archive(services(), name, number, author=_actor())
    except NotADraft as exc:
        raise RefusedChange(str(exc)) from exc
    return _version_response(version)


class PreviewIn(BaseModel):
    """What to preview of a version, over a shipped synthetic sample bill (never a
    customer's): a frame at `t` seconds, the poster, one scene's grid, the microsite page,
    or a full video (queued, stamped PREVIEW on every frame)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["frame", "poster", "grid", "site", "video"]
    ending: Literal["pay", "nudge", "firm", "thanks", "credit"] = "pay"
    locale: str | None = Field(None, max_length=35, description="Default: the template's")
    format: Literal["16:9", "9:16", "1:1"] = "16:9"
    t: float = Field(0.0, ge=0, le=600, description="Seconds into the video (kind frame)")
    scene: str | None = Field(None, max_length=64, description="The scene's id (kind grid)")


class PreviewOut(BaseModel):
    kind: str
    png_base64: str | None = Field(default=None, description="The picture (frame, poster)")
    frame: dict[str, Any] | None = Field(
        default=None, description="Where the frame stands, its marks"
    )
    cells: list[dict[str, Any]] | None = Field(default=None, description="The grid's cells")
    html: str | None = Field(default=None, description="The microsite page (kind site)")
    render: dict[str, Any] | None = Field(default=None, description="The queued video (kind video)")


class PreviewVideoOut(BaseModel):
    id: str
    status: str
    template: str
    video: str | None = Field(description="Where the stamped video is, once done")
    error: dict[str, Any] | None


@bp.post("/<name>/versions/<int:number>/preview")
def version_preview(name: str, number: int) -> Response:
    return once_per_idempotency_key(lambda: _previewed(name, number))


def _previewed(name: str, number: int) -> Response:
    version = _found(name, number)
    raw, _ = read_json_body()
    asked = validated(PreviewIn, raw)
    bundle = bundle_for(services(), version)
    locale = asked.locale or template_locales(bundle)[0]
    try:
        check_locale(bundle, locale)
        body = _preview(version, bundle, asked, locale)
    except (UnknownScene, UnknownSample, ValueError) as exc:
        raise InvalidInput(
            [FieldError("/scene" if asked.kind == "grid" else "/locale", str(exc))]
        ) from exc
    status = 202 if asked.kind == "video" else 200
    headers = {"Content-Type": "application/json"}
    if asked.kind == "video":
        headers["Location"] = f"/v1/templates/{name}/previews/{body.render['id']}"  # type: ignore[index]
    return Response(
        idempotency.json_bytes(body.model_dump(mode="json")), status=status, headers=headers
    )


def _preview(version: VersionInfo, bundle: Any, asked: PreviewIn, locale: str) -> PreviewOut:
    if asked.kind in ("frame", "poster"):
        if asked.kind == "frame":
            drawn = frame_at(bundle, asked.ending, locale, asked.format, asked.t)
        else:
            drawn = poster(bundle, asked.ending, locale, asked.format)
        return PreviewOut(
            kind=asked.kind, png_base64=base64.b64encode(drawn.png).decode(), frame=drawn.as_dict()
        )
    if asked.kind == "grid":
        scene = asked.scene or bundle.spec.scenes[0].id
        cells = PREVIEWS.grid(bundle, scene)
        return PreviewOut(
            kind="grid",
            cells=[
                c.as_dict() | {"png_base64": base64.b64encode(c.png).decode() if c.png else None}
                for c in cells
            ],
        )
    if asked.kind == "site":
        return PreviewOut(kind="site", html=site_html(bundle, asked.ending, locale))
    render_id = request_preview_video(
        services(), bundle, version_id=version.id, ending=asked.ending, locale=locale,
        account=account_id(),
    )  # fmt: skip
    return PreviewOut(
        kind="video", render=_preview_render(version.template, render_id).model_dump()
    )


def _preview_render(name: str, render_id: str) -> PreviewVideoOut:
    with services().db.session() as session:
        row = session.get(Render, render_id)
        if (
            row is None
            or row.purpose != "preview"
            or row.api_key_id != account_id()
            or row.template != name
        ):
            raise NotFound(f"no preview {render_id!r} of {name!r}")
        done = row.status == "done"
        return PreviewVideoOut(
            id=row.id, status=row.status, template=row.template_version or row.template,
            video=f"/v1/templates/{name}/previews/{row.id}/video.mp4" if done else None,
            error=row.error,
        )  # fmt: skip


@bp.get("/<name>/previews/<render_id>")
def preview_get(name: str, render_id: str) -> dict[str, Any]:
    return _preview_render(name, render_id).model_dump(mode="json")


@bp.get("/<name>/previews/<render_id>/video.mp4")
def preview_video_file(name: str, render_id: str) -> Response:
    """The stamped preview video (small: read whole; customers' videos go through /r/)."""
    if _preview_render(name, render_id).status != "done":
        raise NotFound("the preview video is not made yet")
    data = services().storage.read_bytes(output_key(render_id, "video.mp4"))
    return Response(
        data, headers={"Content-Type": "video/mp4", "Cache-Control": "private, no-store"}
    )


def services_publish_checks() -> Callable[[VersionInfo], dict[str, Any]]:
    """What a draft must pass besides validating: every sample ending x locale x format
    plans and draws every scene, and every sample's microsite renders (`app.preview`)."""
    svc = services()

    def check(version: VersionInfo) -> dict[str, Any]:
        return publish_outcome(bundle_for(svc, version), version.digest)

    return check
