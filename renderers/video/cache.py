"""The shared-scene cache: a scene without customer data is encoded once per template
version, format and locale (and the generated audio bed once per length); entries are
written under a temporary name of their own and renamed into place, so parallel renders
never see half a file and never share a temporary one."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from renderers.ffmpeg import ffmpeg_build, ffmpeg_exe

CACHE_DIR_ENV = "BILLREEL_SCENE_CACHE"  # where shared scenes are kept; default: see cache_dir
DEFAULT_CACHE_NAME = ".billreel-scene-cache"  # next to the render's work directory
# Part of every entry's name, so that entries made before are never joined to segments made
# after: bump when the frames sent to the encoder change (yuv.py, how encode.py feeds
# ffmpeg); a change of VIDEO_SETTINGS, of the ffmpeg build or of the fonts changes a shared
# scene's key by itself.
ENCODER_VERSION = 5
STALE_TEMPORARY_S = 3600  # a temporary this old was left by a killed render: remove it


def cache_dir(workdir: Path, configured: Path | None = None) -> Path:
    env = os.environ.get(CACHE_DIR_ENV)
    return configured or (Path(env) if env else workdir.resolve().parent / DEFAULT_CACHE_NAME)


def cache_key(parts: dict[str, Any]) -> str:
    """The key of an entry made from `parts`, by the ffmpeg that runs here: another build may
    code the same input to other bytes, and its entries must not be joined to ours."""
    blob = json.dumps({**parts, "ffmpeg": ffmpeg_build(ffmpeg_exe())}, sort_keys=True,
                      default=str).encode("utf-8")  # fmt: skip
    return hashlib.sha256(blob).hexdigest()[:32]


def _sweep(directory: Path, key: str) -> None:
    """Remove this key's temporaries that a killed render left behind (never a live one:
    a render writes an entry in seconds)."""
    cutoff = time.time() - STALE_TEMPORARY_S
    for leftover in directory.glob(f".{key}-*"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except FileNotFoundError:
            pass  # another render swept it first


def cached(directory: Path, key: str, make: Callable[[Path], Path], suffix: str = ".mp4") -> Path:
    """The entry for `key` (a file ending in `suffix`), made by `make(temporary path)` if missing.

    Two renders missing the same key at once both make it, each in its own temporary file;
    the second rename replaces the first with identical bytes (renders are deterministic).
    """
    final = directory / f"{key}-e{ENCODER_VERSION}{suffix}"
    if final.is_file():
        return final
    directory.mkdir(parents=True, exist_ok=True)
    _sweep(directory, key)
    fd, name = tempfile.mkstemp(prefix=f".{key}-", suffix=suffix, dir=directory)
    os.close(fd)
    temporary = Path(name)
    try:
        make(temporary)
        os.replace(temporary, final)  # atomic: readers see all of it or nothing
    finally:
        temporary.unlink(missing_ok=True)
    return final
