"""Which ffmpeg binary the renderers run (the video encoder and the narration mixer alike)."""

from __future__ import annotations

import os
import shutil

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
