"""Template versions: made, saved, published, archived, compared and found by reference.

- A version's files are blobs in object storage (`blobs`), listed in its database row with
  their SHA-256; its `digest` addresses the whole (`files.digest_of_list`).
- A draft's files change: a save names the `etag` it started from and is refused
  (`StaleVersion`, carrying the newer version) when another save came first; the check and
  the write are one UPDATE, so two savers never both win.
- Publishing switches the template's one published version in one transaction: the one
  published before becomes archived. Publishing an archived version is the rollback.
- Published and archived versions never change; a draft is made from one to edit it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tenacity import retry, retry_if_exception_type, stop_after_attempt

from app.infra.database import Database, Template, TemplateVersion, as_utc, new_id, utcnow
from app.infra.services import Services
from app.templates.blobs import get_files, put_files
from app.templates.files import BundleRefused, Files, digest_of_list, file_list, kind_of
from app.templates.validation import Problem, file_problems, name_problem, validate

State = Literal["draft", "published", "archived"]
MAX_MESSAGE_CHARS = 2000
MAX_AUTHOR_CHARS = 200


class VersionNotFound(LookupError):
    """No such template, or no such version of it."""


class NotADraft(ValueError):
    """Only a draft's files change; published and archived versions are immutable."""


class StaleVersion(ValueError):
    """The draft was saved by someone else since `if_match`; `current` is what it is now."""

    def __init__(self, current: VersionInfo):
        self.current = current
        super().__init__(f"version {current.number} is now at {current.etag}")


class PublishRefused(ValueError):
    """The version does not validate or a check failed; `report` says what was checked."""

    def __init__(self, message: str, report: Mapping[str, Any]):
        self.report = report
        super().__init__(message)


@dataclass(frozen=True)
class VersionInfo:
    id: str
    template: str
    number: int
    state: State
    digest: str
    revision: int
    author: str
    updated_by: str
    message: str
    parent: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    files: Mapping[str, Mapping[str, int | str]]  # path -> {"sha256", "size"}

    @property
    def etag(self) -> str:
        """Changes on every save (the revision) and with the content (the digest)."""
        return f"{self.number}.{self.revision}.{self.digest[:16]}"

    @property
    def ref(self) -> str:
        return f"{self.template}@{self.number}"

    @classmethod
    def of(cls, row: TemplateVersion) -> VersionInfo:
        return cls(
            id=row.id, template=row.template, number=row.number, state=row.state,  # type: ignore[arg-type]
            digest=row.digest, revision=row.revision, author=row.author,
            updated_by=row.updated_by, message=row.message, parent=row.parent,
            created_at=as_utc(row.created_at), updated_at=as_utc(row.updated_at),
            published_at=as_utc(row.published_at) if row.published_at else None,
            files=dict(row.files),
        )  # fmt: skip


@dataclass(frozen=True)
class TemplateSummary:
    name: str
    published: int | None  # the published version's number
    versions: int
    drafts: int
    updated_at: datetime


@dataclass(frozen=True)
class FileDiff:
    path: str
    change: Literal["added", "removed", "modified"]
    binary: bool
    unified: str | None  # a unified diff of a text file
    sizes: tuple[int | None, int | None]


def _clean(text: str | None, what: str, limit: int) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise ValueError(f"{what} has at most {limit} characters")
    return text


# --- reading -----------------------------------------------------------------------------


def list_templates(db: Database) -> list[TemplateSummary]:
    with db.session() as session:
        counts = dict(
            session.execute(
                select(TemplateVersion.template, func.count()).group_by(TemplateVersion.template)
            ).all()
        )
        drafts = dict(
            session.execute(
                select(TemplateVersion.template, func.count())
                .where(TemplateVersion.state == "draft")
                .group_by(TemplateVersion.template)
            ).all()
        )
        published = dict(
            session.execute(
                select(TemplateVersion.template, TemplateVersion.number).where(
                    TemplateVersion.state == "published"
                )
            ).all()
        )
        return [
            TemplateSummary(
                name=t.name,
                published=published.get(t.name),
                versions=counts.get(t.name, 0),
                drafts=drafts.get(t.name, 0),
                updated_at=as_utc(t.updated_at),
            )
            for t in session.scalars(select(Template).order_by(Template.name))
        ]


def list_versions(db: Database, name: str) -> list[VersionInfo]:
    with db.session() as session:
        if session.get(Template, name) is None:
            raise VersionNotFound(f"no template named {name!r}")
        rows = session.scalars(
            select(TemplateVersion)
            .where(TemplateVersion.template == name)
            .order_by(TemplateVersion.number.desc())
        )
        return [VersionInfo.of(r) for r in rows]


def _row(session: Session, name: str, number: int) -> TemplateVersion:
    row = session.scalar(
        select(TemplateVersion).where(
            TemplateVersion.template == name, TemplateVersion.number == number
        )
    )
    if row is None:
        raise VersionNotFound(f"template {name!r} has no version {number}")
    return row


def get_version(db: Database, name: str, number: int) -> VersionInfo:
    with db.session() as session:
        return VersionInfo.of(_row(session, name, number))


def get_version_by_id(db: Database, version_id: str) -> VersionInfo:
    with db.session() as session:
        row = session.get(TemplateVersion, version_id)
        if row is None:
            raise VersionNotFound(f"no template version {version_id!r}")
        return VersionInfo.of(row)


def parse_ref(ref: str) -> tuple[str, int | None]:
    """ "NAME" or "NAME@N"; ValueError naming what is wrong."""
    if not isinstance(ref, str):
        raise ValueError("a template is named by a string: NAME or NAME@N")
    name, at, number = ref.partition("@")
    if name_problem(name):
        raise ValueError(f"{name_problem(name)} (NAME or NAME@N)")
    if not at:
        return name, None
    if not number.isdigit() or not 0 < int(number) < 10**9 or number.startswith("0"):
        raise ValueError("a version number is a positive integer: NAME@N")
    return name, int(number)


def resolve(db: Database, ref: str, *, allow_draft: bool = False) -> VersionInfo:
    """The version `ref` names: NAME is the published one, NAME@N that version. Drafts are
    for previews only: a render may use a published or an archived (older) version."""
    name, number = parse_ref(ref)
    with db.session() as session:
        if number is None:
            row = session.scalar(
                select(TemplateVersion).where(
                    TemplateVersion.template == name, TemplateVersion.state == "published"
                )
            )
            if row is None:
                if session.get(Template, name) is None:
                    raise VersionNotFound(f"no template named {name!r}")
                raise VersionNotFound(f"template {name!r} has no published version")
        else:
            row = _row(session, name, number)
        if row.state == "draft" and not allow_draft:
            raise VersionNotFound(f"{name}@{row.number} is a draft: publish it to render with it")
        return VersionInfo.of(row)


def read_files(services: Services, version: VersionInfo) -> dict[str, bytes]:
    return get_files(services.storage, version.files)


# --- writing -----------------------------------------------------------------------------


def _refuse_bad(files: Files) -> None:
    problems = file_problems(files)
    if problems:
        raise BundleRefused([(p.file or "(version)", p.message) for p in problems])


@retry(retry=retry_if_exception_type(IntegrityError), stop=stop_after_attempt(5), reraise=True)
def _insert_version(
    db: Database, name: str, files: Files, *, state: State, author: str, message: str,
    parent: int | None, create_template: bool,
) -> VersionInfo:  # fmt: skip
    """A new version numbered after the template's last; two writers racing for a number
    meet the (template, number) unique constraint and the loser tries the next one."""
    listing = file_list(files)
    now = utcnow()
    with db.session() as session:
        template = session.get(Template, name, with_for_update=True)
        if template is None:
            if not create_template:
                raise VersionNotFound(f"no template named {name!r}")
            template = Template(name=name, created_at=now, updated_at=now)
            session.add(template)
            session.flush()
        last = session.scalar(
            select(func.max(TemplateVersion.number)).where(TemplateVersion.template == name)
        )
        row = TemplateVersion(
            id=new_id("tv"), template=name, number=(last or 0) + 1, state=state,
            digest=digest_of_list(listing), revision=1, files=listing, parent=parent,
            author=author, updated_by=author, message=message, created_at=now, updated_at=now,
            published_at=now if state == "published" else None,
        )  # fmt: skip
        session.add(row)
        template.updated_at = now
        if state == "published":
            template.published_id = row.id
        session.flush()
        return VersionInfo.of(row)


def create_draft(
    services: Services,
    name: str,
    *,
    author: str,
    message: str = "",
    files: Files | None = None,
    from_number: int | None = None,
) -> VersionInfo:
    """A new draft: from uploaded files (a new template when `name` has none yet), or a copy
    of version `from_number` (its parent) to edit."""
    wrong = name_problem(name)
    if wrong:
        raise BundleRefused([("(name)", wrong)])
    author = _clean(author, "author", MAX_AUTHOR_CHARS) or "unknown"
    message = _clean(message, "message", MAX_MESSAGE_CHARS)
    if (files is None) == (from_number is None):
        raise ValueError("a draft starts from uploaded files or from a version, not both")
    parent = None
    if from_number is not None:
        source = get_version(services.db, name, from_number)
        files = read_files(services, source)
        parent = source.number
    assert files is not None
    _refuse_bad(files)
    put_files(services.storage, files)
    return _insert_version(
        services.db, name, files, state="draft", author=author, message=message,
        parent=parent, create_template=from_number is None,
    )  # fmt: skip


def import_published(
    services: Services, name: str, files: Files, *, author: str, message: str
) -> VersionInfo:
    """A template's first version, published at once (the bundles the repository ships)."""
    _refuse_bad(files)
    put_files(services.storage, files)
    return _insert_version(
        services.db, name, files, state="published", author=author, message=message,
        parent=None, create_template=True,
    )  # fmt: skip


def save_draft(
    services: Services,
    name: str,
    number: int,
    *,
    if_match: str,
    changes: Mapping[str, bytes | None],
    author: str,
    message: str | None = None,
) -> VersionInfo:
    """Apply `changes` (path -> new bytes, or None to delete) to a draft last seen at
    `if_match`. Nothing is written unless the draft is still at `if_match`."""
    author = _clean(author, "author", MAX_AUTHOR_CHARS) or "unknown"
    current = get_version(services.db, name, number)
    if current.state != "draft":
        raise NotADraft(f"{current.ref} is {current.state}: make a draft from it to edit it")
    if if_match != current.etag:
        raise StaleVersion(current)
    files = read_files(services, current)
    for path, data in changes.items():
        if data is None:
            if path not in files:
                raise BundleRefused([(path, "no such file to delete")])
            del files[path]
        else:
            files[path] = data
    _refuse_bad(files)
    put_files(services.storage, files)
    listing = file_list(files)
    values: dict[str, Any] = {
        "files": listing, "digest": digest_of_list(listing),
        "revision": current.revision + 1, "updated_by": author, "updated_at": utcnow(),
    }  # fmt: skip
    if message is not None:
        values["message"] = _clean(message, "message", MAX_MESSAGE_CHARS)
    with services.db.session() as session:
        done = session.execute(
            update(TemplateVersion)
            .where(
                TemplateVersion.id == current.id,
                TemplateVersion.revision == current.revision,
                TemplateVersion.state == "draft",
            )
            .values(**values)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            now = get_version(services.db, name, number)
            if now.state != "draft":
                raise NotADraft(f"{now.ref} is {now.state} now")
            raise StaleVersion(now)
    return get_version(services.db, name, number)


Checks = Callable[[VersionInfo], Mapping[str, Any]]


def publish(
    services: Services, name: str, number: int, *, author: str, checks: Checks | None = None
) -> tuple[VersionInfo, dict[str, Any]]:
    """Make version `number` the published one. A draft must validate and pass `checks`
    (the preview grid); an archived version passed them when it was first published."""
    version = get_version(services.db, name, number)
    report: dict[str, Any] = {"version": version.ref, "checks": []}
    if version.state == "published":
        report["checks"].append({"name": "already published", "ok": True})
        return version, report
    if version.state == "draft":
        problems = validate(read_files(services, version), name)
        report["checks"].append({
            "name": "validates", "ok": not problems,
            "problems": [p.as_dict() for p in problems],
        })  # fmt: skip
        if problems:
            raise PublishRefused(f"{version.ref} does not validate", report)
        if checks is not None:
            outcome = dict(checks(version))
            report["checks"].append(outcome)
            if not outcome.get("ok"):
                raise PublishRefused(
                    f"{version.ref} failed {outcome.get('name', 'a check')}", report
                )
    else:
        report["checks"].append({"name": "published before (a rollback)", "ok": True})
    now = utcnow()
    with services.db.session() as session:
        template = session.get(Template, name, with_for_update=True)
        assert template is not None
        # Archive first: the partial unique index allows one published version at a time.
        session.execute(
            update(TemplateVersion)
            .where(TemplateVersion.template == name, TemplateVersion.state == "published")
            .values(state="archived", updated_at=now)
        )
        done = session.execute(
            update(TemplateVersion)
            .where(TemplateVersion.id == version.id, TemplateVersion.revision == version.revision)
            .values(state="published", published_at=now, updated_at=now, updated_by=author)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            raise StaleVersion(get_version(services.db, name, number))
        template.published_id = version.id
        template.updated_at = now
    return get_version(services.db, name, number), report


def archive(services: Services, name: str, number: int, *, author: str) -> VersionInfo:
    """Put a draft (or an old version) aside. The published version cannot be archived:
    publish another first, so a template always has one."""
    version = get_version(services.db, name, number)
    if version.state == "published":
        raise NotADraft(f"{version.ref} is the published version: publish another one first")
    if version.state == "draft":
        with services.db.session() as session:
            session.execute(
                update(TemplateVersion)
                .where(TemplateVersion.id == version.id, TemplateVersion.state == "draft")
                .values(state="archived", updated_at=utcnow(), updated_by=author)
            )
    return get_version(services.db, name, number)


def diff(services: Services, name: str, a: int, b: int) -> list[FileDiff]:
    """What changed from version `a` to version `b`, file by file (unchanged files left out)."""
    old, new = get_version(services.db, name, a), get_version(services.db, name, b)
    changed = sorted(
        p for p in set(old.files) | set(new.files)
        if old.files.get(p, {}).get("sha256") != new.files.get(p, {}).get("sha256")
    )  # fmt: skip
    old_files = get_files(services.storage, {p: old.files[p] for p in changed if p in old.files})
    new_files = get_files(services.storage, {p: new.files[p] for p in changed if p in new.files})
    out: list[FileDiff] = []
    for path in changed:
        before, after = old_files.get(path), new_files.get(path)
        change: Literal["added", "removed", "modified"] = (
            "added" if before is None else "removed" if after is None else "modified"
        )
        binary = kind_of(path) != "text"
        unified = None
        if not binary:
            unified = "".join(
                difflib.unified_diff(
                    (before or b"").decode("utf-8").splitlines(keepends=True),
                    (after or b"").decode("utf-8").splitlines(keepends=True),
                    fromfile=f"{name}@{a}/{path}" if before is not None else "/dev/null",
                    tofile=f"{name}@{b}/{path}" if after is not None else "/dev/null",
                )
            )
        sizes = (
            len(before) if before is not None else None,
            len(after) if after is not None else None,
        )
        out.append(FileDiff(path, change, binary, unified, sizes))
    return out


__all__ = [
    "FileDiff", "NotADraft", "Problem", "PublishRefused", "StaleVersion", "TemplateSummary",
    "VersionInfo", "VersionNotFound", "archive", "create_draft", "diff", "get_version",
    "get_version_by_id", "import_published", "list_templates", "list_versions", "parse_ref",
    "publish", "read_files", "resolve", "save_draft",
]  # fmt: skip
