"""What is drawn from a font file, made once per machine instead of once per process.

Rewriting a font without its hinting (fonts.py, _unhinted) costs about 0.35 CPU-s for each
Latin face, reading a CJK collection's character map up to 0.08: a worker's warm-up paid
some 1.2 CPU-s for them, and every `billreel render` about 0.7 for the Latin faces. Each
artefact is kept as a file named by its key: the font file as it is (resolved path, face,
size, modification time) and fontTools' version; an updated font or another fontTools
makes a new entry. Written as the scene cache writes (cache.cached: a temporary file of its
own, renamed into place), so processes share entries and never read half of one; each
entry starts with the SHA-256 of its bytes, and one that does not match (damaged, cut
short) is removed and made again. Pillow is not part of the key: it only reads these bytes.
Where no cache can be written (read-only, full), artefacts are made in memory as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import fontTools

from renderers.video.cache import cached

FONT_CACHE_ENV = "BILLREEL_FONT_CACHE"  # where entries are kept; default: see font_cache_dir
DIGEST_BYTES = hashlib.sha256().digest_size


def font_cache_dir() -> Path | None:
    """BILLREEL_FONT_CACHE, else billreel/fonts in the XDG cache directory (XDG_CACHE_HOME if
    absolute, as the specification asks, else ~/.cache); None if there is no home to use."""
    configured = os.environ.get(FONT_CACHE_ENV)
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    try:
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    except RuntimeError:  # no HOME and no password entry
        return None
    return base / "billreel" / "fonts"


def _key(kind: str, font: Path, index: int, stat: os.stat_result) -> str:
    parts = {"kind": kind, "file": str(font.resolve()), "index": index, "size": stat.st_size,
             "mtime_ns": stat.st_mtime_ns, "fontTools": fontTools.version}  # fmt: skip
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()[:32]


def _checked(entry: bytes) -> bytes | None:
    """The entry's bytes, or None if they are not the ones its digest was made of."""
    digest, data = entry[:DIGEST_BYTES], entry[DIGEST_BYTES:]
    ok = len(digest) == DIGEST_BYTES and hashlib.sha256(data).digest() == digest
    return data if ok else None


def stored(kind: str, font: Path, index: int, make: Callable[[], bytes]) -> bytes:
    """`make()`'s bytes, the artefact `kind` of face `index` of the font file `font`: read from
    its entry, or made and written there. `kind` names what `make` does and its version."""
    directory = font_cache_dir()
    try:
        key = _key(kind, font, index, font.stat())
    except OSError:
        directory = None  # no such file: `make` says so, as a FontError
    if directory is None:
        return make()
    made: list[bytes] = []

    def write(temporary: Path) -> Path:
        made.append(make())
        temporary.write_bytes(hashlib.sha256(made[0]).digest() + made[0])
        return temporary

    for _ in range(2):  # a damaged entry is removed and made once more
        try:
            entry = cached(directory, key, write, suffix=f".{kind}")
            data = made[0] if made else _checked(entry.read_bytes())
        except OSError:  # no cache here (read-only, full, removed meanwhile): in memory
            return made[0] if made else make()
        if data is not None:
            return data
        with contextlib.suppress(OSError):
            entry.unlink()
    return make()
