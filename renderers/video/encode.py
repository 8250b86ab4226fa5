"""ffmpeg: segments from frame runs, and the audio bed (the join is in remux.py).

A segment's distinct frames go to ffmpeg once each as yuv420p on stdin (converted where they
changed, see yuv.py) and are coded once, timestamped to show until the next (a variable
frame rate: players and decoders show it at 30 fps), so a settled card costs one coded
frame. Every segment has the same encoder settings, so segments join without
re-encoding. The generated audio bed has no customer data either: it is encoded to AAC once
per length, cached and copied in, like a shared scene.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from renderers.errors import EncodeError
from renderers.ffmpeg import ffmpeg_exe
from renderers.video.cache import cache_key, cached
from renderers.video.compose import Run
from renderers.video.formats import (
    AUDIO_BITRATE,
    AUDIO_RATE,
    ENCODE_TIMEOUT_S,
    FPS,
    KEYFRAME_INTERVAL,
    TIMESCALE,
    VIDEO_CRF,
    X264_PRESET,
    Format,
)
from renderers.video.pipe import FrameSink
from renderers.video.spec import Audio
from renderers.video.yuv import Planes

LOG_TAIL_CHARS = 2000
BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
# Each distinct image coded once (see encode_runs). x264 spends about as long on an unchanged
# frame as on a new one, and held copies are most of a video: a constant 30 fps (every frame
# coded) costs about 1.5 times the CPU. benchmarks/bench_video.py measures both.
VARIABLE_RATE = True
VFR_KEYFRAMES = ["-force_key_frames", f"expr:gte(t,n_forced*{KEYFRAME_INTERVAL / FPS:g})"]
BED_FORMAT = 1  # bump when the way the audio bed is generated or encoded changes
AUDIO_SETTINGS = ["-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(AUDIO_RATE), "-ac", "2"]
# an audio track as the join copies it in: AAC in an mp4 (m4a) file, nothing else in it
AAC_FILE = [*AUDIO_SETTINGS, "-vn", *BITEXACT, "-map_metadata", "-1", "-f", "mp4"]
# One x264 thread: the bytes then do not depend on the machine's core count (frame threads
# change them), and threads cost CPU to coordinate; a machine's cores are used by running one
# render per core, the drawing of each alongside its encoder.
VIDEO_SETTINGS = [
    "-c:v", "libx264", "-threads", "1", "-preset", X264_PRESET, "-profile:v", "high",
    "-crf", str(VIDEO_CRF),
    "-pix_fmt", "yuv420p", "-r", str(FPS), "-g", str(KEYFRAME_INTERVAL),
    "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
    "-color_range", "tv", "-video_track_timescale", str(TIMESCALE),
]  # fmt: skip


def _base() -> list[str]:
    return [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def _fail(out: Path, message: str, log: str = "") -> EncodeError:
    out.unlink(missing_ok=True)
    return EncodeError(message, log[-LOG_TAIL_CHARS:])


def hold_filter(counts: Sequence[int]) -> str:
    """Each distinct frame gets the timestamp of its run's first frame, and `fps` repeats it
    until the next (`tpad` holds the last one).

    The `loop` filter would do the same but lets unconverted input frames pile up in front of
    it (a gigabyte for one video); this chain passes every frame straight through.
    """
    terms = [f"gte(N\\,{i + 1})*{count - 1}" for i, count in enumerate(counts[:-1]) if count > 1]
    start = "+".join(["N", *terms])
    # round(): setpts truncates, and (197/30)/(1/30) is 196.99999... in floating point
    chain = [f"setpts='round(({start})/{FPS}/TB)'", f"fps={FPS}"]
    if counts and counts[-1] > 1:
        chain.append(f"tpad=stop_mode=clone:stop={counts[-1] - 1}")
    return ",".join(chain)


def rate_args(counts: Sequence[int], variable_rate: bool) -> list[str]:
    """The filter chain and video settings (after the input) that hold runs of `counts`
    frames: one coded frame per run at a variable rate, or every frame at a constant 30 fps.
    At a variable rate `counts` must end with a run of one (see `sent`)."""
    if not variable_rate:
        return ["-vf", hold_filter(counts), *VIDEO_SETTINGS, "-frames:v", str(sum(counts))]
    hold = hold_filter(counts).split(",fps=")[0]
    settings = [a for a in VIDEO_SETTINGS if a not in ("-r", str(FPS))]
    return ["-vf", hold, *settings, "-fps_mode", "vfr", *VFR_KEYFRAMES]


def overlaid(rate: list[str], overlay: Path) -> list[str]:
    """The rate arguments with `overlay` (the second input) laid over every frame the hold
    chain gives: one still image, repeated by the overlay filter to the end."""
    at = rate.index("-vf")
    chain = f"[0:v]{rate[at + 1]}[held];[held][1:v]overlay=0:0:format=yuv420[out]"
    return [*rate[:at], "-filter_complex", chain, "-map", "[out]", *rate[at + 2 :]]


def _held_once(runs: Iterable[Run]) -> Iterator[Run]:
    """The runs, and the last image once more: it marks where the segment ends."""
    last = None
    for run in runs:
        last = run
        yield run
    if last is not None:
        yield replace(last, changed=(), cleared=None)


def _closed(
    runs: Iterable[Run], counts: Sequence[int], variable_rate: bool
) -> tuple[Iterable[Run], list[int]]:
    """At a variable rate the last image goes once more: it marks where the segment ends
    (the last run's count split off its last frame)."""
    if variable_rate and counts and counts[-1] > 1:
        return _held_once(runs), [*counts[:-1], counts[-1] - 1, 1]
    return runs, list(counts)


def _frames(runs: Iterable[Run], planes: Planes) -> Iterator[memoryview]:
    """Each run's yuv420p frame, from the planes' ring of buffers."""
    for run in runs:
        if run.cleared is not None:
            planes.clear(run.cleared)
        planes.update(run.canvas, run.changed)
        yield planes.frame(run.fade, run.background, run.content)


def sent(
    runs: Iterable[Run], counts: Sequence[int], fmt: Format, variable_rate: bool
) -> tuple[Iterator[memoryview], list[str]]:
    """What ffmpeg is sent for runs of `counts` frames: the yuv420p frame of each distinct
    image (raw input of `fmt`'s size at 30 fps; each to be written before the next is
    taken), and the arguments after its input that hold them."""
    runs, counts = _closed(runs, counts, variable_rate)
    return _frames(runs, Planes(fmt.width, fmt.height)), rate_args(counts, variable_rate)


def encode_runs(
    runs: Iterable[Run],
    counts: Sequence[int],
    fmt: Format,
    out: Path,
    *,
    variable_rate: bool | None = None,
    overlay: Path | None = None,
) -> Path:
    """Encode runs (whose frame counts are `counts`, known up front) to an mp4 segment.

    `variable_rate` (default: VARIABLE_RATE) sends x264 each distinct image once, timestamped
    to show until the next; False codes every frame at a constant 30 fps. `overlay`: an
    image of the frame's size laid over every frame as it is coded (a preview's stamp).
    """
    vfr = VARIABLE_RATE if variable_rate is None else variable_rate
    runs, counts = _closed(runs, counts, vfr)
    cmd = [*_base(), "-f", "rawvideo", "-pix_fmt", "yuv420p"]
    cmd += ["-video_size", f"{fmt.width}x{fmt.height}", "-framerate", str(FPS), "-i", "-"]
    rate = rate_args(counts, vfr)
    if overlay is not None:
        rate = overlaid(rate, overlay)
        cmd += ["-i", str(overlay)]
    cmd += [*rate, "-an", *BITEXACT, "-map_metadata", "-1", str(out)]
    try:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
    except OSError as exc:
        raise EncodeError(f"cannot run ffmpeg: {exc}") from exc
    assert proc.stdin is not None and proc.stderr is not None
    sink = FrameSink(proc.stdin, fmt.width * fmt.height * 3 // 2)
    # Held until ffmpeg has exited: the pipe may hold references to its buffers' pages.
    planes = Planes(fmt.width, fmt.height, sink.buffers)
    try:
        for frame in _frames(runs, planes):
            sink.send(frame)
    except BrokenPipeError:
        pass  # ffmpeg died; its status and log say why
    finally:
        proc.stdin.close()
    try:
        log = proc.stderr.read().decode("utf-8", "replace")
        status = proc.wait(timeout=ENCODE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.wait()
        raise _fail(out, f"ffmpeg did not finish within {ENCODE_TIMEOUT_S} s") from exc
    del planes  # ffmpeg is gone, and the pipe with it
    if status != 0 or not out.is_file() or out.stat().st_size == 0:
        raise _fail(out, f"ffmpeg exited with status {status}", log)
    return out


def _tone_bed(audio: Audio, seconds: float) -> list[str]:
    if audio.bed == "silence" or audio.volume == 0:
        expr = "0"
    else:
        # A soft fifth, slowly breathing in volume: deterministic, no samples shipped.
        v, f = audio.volume, audio.frequency
        expr = f"{v}*(0.7+0.3*sin(2*PI*0.2*t))*(sin(2*PI*{f}*t)+0.5*sin(2*PI*{f * 1.5}*t))"
    fade_out = min(1.5, seconds / 4)
    return [
        "-f", "lavfi", "-i", f"aevalsrc=exprs={expr}|{expr}:s={AUDIO_RATE}:d={seconds:.3f}",
        "-af", f"afade=t=in:d=0.8,afade=t=out:st={seconds - fade_out:.3f}:d={fade_out:.3f}",
    ]  # fmt: skip


def _run(cmd: list[str], out: Path) -> Path:
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=ENCODE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise _fail(out, f"ffmpeg did not finish within {ENCODE_TIMEOUT_S} s") from exc
    except OSError as exc:
        raise EncodeError(f"cannot run ffmpeg: {exc}") from exc
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        raise _fail(out, f"ffmpeg exited with status {proc.returncode}", proc.stderr)
    return out


def encode_bed(audio: Audio, frames: int, out: Path) -> Path:
    """The generated bed, `frames` video frames long, as AAC in an mp4 (m4a) file."""
    return _run([*_base(), *_tone_bed(audio, frames / FPS), *AAC_FILE, str(out)], out)


def bed_key(audio: Audio, frames: int) -> str:
    return cache_key({"bed": BED_FORMAT, "audio": audio.model_dump(mode="json"),
                      "frames": frames, "settings": AUDIO_SETTINGS})  # fmt: skip


def audio_bed(audio: Audio, frames: int, cache: Path) -> Path:
    """The generated bed for a video of `frames` frames, from `cache` (made there if missing)."""
    return cached(cache, bed_key(audio, frames), partial(encode_bed, audio, frames), ".m4a")
