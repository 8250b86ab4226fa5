"""One ffmpeg process per video: each card converted to yuv420p once, held with `loop`,
faded through the background colour, joined with `concat`, plus a generated audio bed.

No frame is composited in Python; ffmpeg sees one still per card.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from renderers.errors import EncodeError
from renderers.video.frame import (
    AUDIO_BITRATE,
    AUDIO_RATE,
    ENCODE_TIMEOUT_S,
    FPS,
    HEIGHT,
    KEYFRAME_INTERVAL,
    VIDEO_CRF,
    WIDTH,
    X264_PRESET,
)
from renderers.video.spec import Audio

FFMPEG_ENV = "BILLREEL_FFMPEG"  # path of an ffmpeg binary; default: PATH, then imageio-ffmpeg
LOG_TAIL_CHARS = 2000


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


@dataclass(frozen=True)
class Segment:
    still: Path  # raw rgb24, WIDTH x HEIGHT, one frame
    frames: int


def _audio_source(audio: Audio, seconds: float) -> str:
    if audio.bed == "silence" or audio.volume == 0:
        expr = "0"
    else:
        # A soft fifth, slowly breathing in volume: deterministic, no samples shipped.
        v, f = audio.volume, audio.frequency
        expr = f"{v}*(0.7+0.3*sin(2*PI*0.2*t))*(sin(2*PI*{f}*t)+0.5*sin(2*PI*{f * 1.5}*t))"
    return f"aevalsrc=exprs={expr}|{expr}:s={AUDIO_RATE}:d={seconds:.3f}"


def build_command(
    segments: Sequence[Segment], audio: Audio, fade: float, background: str, out: Path
) -> list[str]:
    total_frames = sum(s.frames for s in segments)
    seconds = total_frames / FPS
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    for seg in segments:
        cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-video_size", f"{WIDTH}x{HEIGHT}"]
        cmd += ["-framerate", str(FPS), "-i", str(seg.still)]
    cmd += ["-f", "lavfi", "-i", _audio_source(audio, seconds)]
    color = "0x" + background.lstrip("#")
    to_yuv = "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p"
    chains: list[str] = []
    parts: list[str] = []
    for i, seg in enumerate(segments):
        # Each card: its still held for the middle frames (converted to yuv420p once), and
        # short fade-in and fade-out runs faded in RGB (fade's own format) then converted.
        # Fading the whole held run would convert every frame of it to RGB and back.
        n = min(round(fade * FPS), seg.frames // 4)
        mid = seg.frames - 2 * n
        hold = f"loop=loop={{}}:size=1:start=0,setpts=N/{FPS}/TB"
        if n == 0:
            chains.append(f"[{i}:v]{to_yuv},{hold.format(seg.frames - 1)}[m{i}]")
            parts.append(f"[m{i}]")
            continue
        d = n / FPS
        chains += [
            f"[{i}:v]split=3[a{i}][b{i}][c{i}]",
            f"[a{i}]{hold.format(n - 1)},fade=t=in:st=0:d={d:.3f}:color={color},{to_yuv}[i{i}]",
            f"[b{i}]{to_yuv},{hold.format(mid - 1)}[m{i}]",
            f"[c{i}]{hold.format(n - 1)},fade=t=out:st=0:d={d:.3f}:color={color},{to_yuv}[o{i}]",
        ]
        parts.append(f"[i{i}][m{i}][o{i}]")
    chains.append(f"{''.join(parts)}concat=n={sum(p.count('[') for p in parts)}:v=1:a=0[v]")
    fade_out = min(1.5, seconds / 4)
    chains.append(
        f"[{len(segments)}:a]afade=t=in:d=0.8,afade=t=out:st={seconds - fade_out:.3f}"
        f":d={fade_out:.3f}[a]"
    )
    cmd += ["-filter_complex", ";".join(chains), "-map", "[v]", "-map", "[a]"]
    cmd += [
        "-c:v", "libx264", "-preset", X264_PRESET, "-profile:v", "high",
        "-crf", str(VIDEO_CRF), "-pix_fmt", "yuv420p", "-r", str(FPS),
        "-g", str(KEYFRAME_INTERVAL),
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
        "-color_range", "tv",
        "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(AUDIO_RATE), "-ac", "2",
        "-frames:v", str(total_frames), "-t", f"{seconds:.3f}",
        "-movflags", "+faststart", "-video_track_timescale", "15360",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-map_metadata", "-1", "-map_chapters", "-1",
        str(out),
    ]  # fmt: skip
    return cmd


def encode_video(
    segments: Sequence[Segment], audio: Audio, fade: float, background: str, out: Path
) -> Path:
    """Encode the segments to `out` (H.264 High / AAC MP4, moov first); EncodeError on failure."""
    if not segments:
        raise EncodeError("a video needs at least one card")
    cmd = build_command(segments, audio, fade, background, out)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=ENCODE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        out.unlink(missing_ok=True)
        raise EncodeError(f"ffmpeg did not finish within {ENCODE_TIMEOUT_S} s") from exc
    except OSError as exc:
        raise EncodeError(f"cannot run ffmpeg: {exc}") from exc
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        out.unlink(missing_ok=True)
        raise EncodeError(
            f"ffmpeg exited with status {proc.returncode}", proc.stderr[-LOG_TAIL_CHARS:]
        )
    return out
