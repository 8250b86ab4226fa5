"""Object keys: `renders/<render_id>/video.mp4`, segments of `[A-Za-z0-9_.-]` joined by `/`,
none empty, none starting with a dot (so no `..`, no hidden files); keys carry no personal
data, which is what lets them appear in URLs and log lines.
"""

from __future__ import annotations

import re

from app.infra.storage.base import InvalidKey

# The outputs of a render, by storage name, with the media type each is served with.
CONTENT_TYPES: dict[str, str] = {
    "video.mp4": "video/mp4",
    "poster.jpg": "image/jpeg",
    "captions.vtt": "text/vtt; charset=utf-8",
    "chapters.vtt": "text/vtt; charset=utf-8",
    "site/index.html": "text/html; charset=utf-8",
}


MAX_KEY_BYTES = 1024  # S3's limit on a key, in UTF-8 bytes


_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9_.-]*"
_KEY_RE = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
_FILENAME_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}")


def validate_key(key: str, *, what: str = "key") -> str:
    """`key` itself when it is safe; raises InvalidKey saying what is wrong otherwise."""
    if not isinstance(key, str) or not key:
        raise InvalidKey(f"{what} must be a non-empty string")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKey(f"{what} is longer than {MAX_KEY_BYTES} bytes")
    if not _KEY_RE.fullmatch(key):
        raise InvalidKey(
            f"{what} {key!r} is not safe: use segments of A-Z a-z 0-9 _ . - joined by '/', "
            "none empty and none starting with '.'"
        )
    return key


def validate_prefix(prefix: str) -> str:
    """A key prefix for `delete_prefix`: a safe key, optionally ending with '/'."""
    if not isinstance(prefix, str) or not prefix:
        raise InvalidKey("prefix must be a non-empty string (deleting everything is refused)")
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix, what="prefix")
    return prefix


def require_headers(content_type: str, cache_control: str) -> None:
    """Every object is stored with both headers: a browser must never have to guess them."""
    for name, value in (("content_type", content_type), ("cache_control", cache_control)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string")


def output_key(render_id: str, name: str) -> str:
    """The key of one output of a render, e.g. `renders/rnd_.../video.mp4`."""
    if "/" in render_id:
        raise InvalidKey(f"render_id {render_id!r} must not contain '/'")
    validate_key(render_id, what="render_id")
    validate_key(name, what="name")
    return validate_key(f"renders/{render_id}/{name}")


def render_prefix(render_id: str) -> str:
    """The prefix under which every output of one render lives (for deleting them all)."""
    return output_key(render_id, "video.mp4").rsplit("/", 1)[0] + "/"


def content_disposition(filename: str) -> str:
    if not _FILENAME_RE.fullmatch(filename):
        raise InvalidKey(f"filename {filename!r} is not safe: use A-Z a-z 0-9 _ . - only")
    return f'attachment; filename="{filename}"'
