"""Which ffmpeg binary the renderers run (the video encoder and the narration mixer alike)."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache

from renderers.errors import EncodeError

FFMPEG_ENV = "BILLREEL_FFMPEG"  # path of an ffmpeg binary; default: PATH, then imageio-ffmpeg


def ffmpeg_exe() -> str:
    """The ffmpeg to run: $BILLREEL_FFMPEG, else the system's, else imageio-ffmpeg's own."""
    configured = os.environ.get(FFMPEG_ENV)
    if configured:
        return configured
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise EncodeError("no ffmpeg on PATH and imageio-ffmpeg is not installed") from exc
    return str(imageio_ffmpeg.get_ffmpeg_exe())


@lru_cache(maxsize=4)
def ffmpeg_build(exe: str) -> str:
    """What an encoded file depends on in the ffmpeg at `exe`: its version and its
    libavcodec's, as `ffmpeg -version` prints them (asked once per process; "" if it does not
    run, and then no encode will)."""
    try:
        out = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    wanted = ("ffmpeg version", "libavcodec")
    return "\n".join(line.strip() for line in out.splitlines() if line.startswith(wanted))
