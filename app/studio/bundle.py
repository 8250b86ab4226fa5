"""Where things are in a version's files (the layout of `app.templates.files`), read as text."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from app.studio.errors import EditRefused

Files = Mapping[str, bytes]

SPEC = "scenes/scenes.yaml"
NARRATION = "scenes/narration"
ASSETS = "scenes/assets"
MESSAGES = "microsite/messages"
POT = f"{MESSAGES}/messages.pot"
FALLBACK = "en"  # the fallback catalog of both narration and messages (renderers.catalog)


def text(files: Files, path: str) -> str:
    if path not in files:
        raise EditRefused(path, "the version has no such file")
    try:
        return files[path].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditRefused(path, f"not UTF-8 text (byte {exc.start})") from exc


def _by_locale(files: Files, folder: str, suffix: str) -> dict[str, str]:
    out = {}
    for path in files:
        p = PurePosixPath(path)
        if str(p.parent) == folder and p.suffix == suffix:
            out[p.stem] = path
    return dict(sorted(out.items()))


def narration_files(files: Files) -> dict[str, str]:
    """locale -> path of `scenes/narration/LOCALE.yaml`."""
    return _by_locale(files, NARRATION, ".yaml")


def message_files(files: Files) -> dict[str, str]:
    """locale -> path of `microsite/messages/LOCALE.po`."""
    return _by_locale(files, MESSAGES, ".po")


def ordered_locales(locales: set[str]) -> list[str]:
    """The fallback first, then the others by name."""
    return sorted(locales, key=lambda name: (name != FALLBACK, name))
