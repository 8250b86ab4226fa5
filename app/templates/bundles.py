"""A stored version as the renderers load it: its files written once to a folder named by
its digest (under the data directory), loaded once per process.

Every worker of a fleet, on any machine, builds that folder from the same blobs, so the same
version renders the same bytes everywhere; the digest makes the folder immutable, so it is
never written twice or read half-made (`files.materialize`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from app.infra.services import Services
from app.templates.blobs import get_files
from app.templates.files import Files, digest, materialize
from app.templates.store import VersionInfo
from renderers.errors import TemplateNotFound
from renderers.templates import TemplateBundle, load_bundle

CACHE_FOLDER = "templates"  # under the data directory
MAX_LOADED = 32  # bundles kept loaded in a process (a studio session makes one per save)

_loaded: OrderedDict[tuple[Path, str, str, int], TemplateBundle] = OrderedDict()
_lock = threading.Lock()


def cache_root(services: Services) -> Path:
    return services.settings.data_dir / CACHE_FOLDER


def _remember(key: tuple[Path, str, str, int], bundle: TemplateBundle) -> TemplateBundle:
    with _lock:
        _loaded[key] = bundle
        _loaded.move_to_end(key)
        while len(_loaded) > MAX_LOADED:
            _loaded.popitem(last=False)
    return bundle


def _known(key: tuple[Path, str, str, int]) -> TemplateBundle | None:
    with _lock:
        bundle = _loaded.get(key)
        if bundle is not None:
            _loaded.move_to_end(key)
        return bundle


def bundle_for(services: Services, version: VersionInfo) -> TemplateBundle:
    """The bundle of a stored version, numbered as the store numbers it (`NAME@N`)."""
    key = (cache_root(services), version.template, version.digest, version.number)
    known = _known(key)
    if known is not None:
        return known
    folder = cache_root(services) / version.digest
    if not folder.is_dir():
        materialize(get_files(services.storage, version.files), version.template, folder)
    bundle = load_bundle(version.template, root=folder)
    return _remember(key, replace(bundle, version=version.number))


def bundle_from_files(services: Services, name: str, files: Files, number: int) -> TemplateBundle:
    """The bundle of files not stored as they are (a preview of unsaved edits); raises the
    renderer's TemplateError when they do not load."""
    content = digest(files)
    key = (cache_root(services), name, content, number)
    known = _known(key)
    if known is not None:
        return known
    folder = materialize(files, name, cache_root(services) / content)
    bundle = load_bundle(name, root=folder)
    return _remember(key, replace(bundle, version=number))


def bundle_for_render(services: Services, version_id: str | None, template: str) -> TemplateBundle:
    """The bundle a render is pinned to; a render accepted before templates were versioned
    (no version id) takes its template's published version. A version that is not there is
    the renderer's TemplateNotFound: the render fails at once, no retry brings it back."""
    from app.templates.lookup import find_version
    from app.templates.store import VersionNotFound, get_version_by_id

    try:
        if version_id:
            version = get_version_by_id(services.db, version_id)
        else:
            version = find_version(services, template)
    except (VersionNotFound, ValueError) as exc:
        raise TemplateNotFound(str(exc)) from exc
    return bundle_for(services, version)
