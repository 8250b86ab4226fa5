"""One audio track for the whole video: each clip at its scene start, the music bed ducked.

One ffmpeg process: clips resampled to 48 kHz stereo and delayed to their start (in
samples, so placement is exact), summed without normalisation, padded and cut to the exact
length; the bed looped, cut, and ducked by volume automation computed from the word timings
(deterministic, unlike a compressor that follows the signal).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from renderers.ffmpeg import ffmpeg_exe
from renderers.voice.speech import Speech, VoiceError

SAMPLE_RATE = 48_000  # Hz, the rate of the video's AAC track
BED_GAIN_DB = -14.0  # the music bed alone, under no voice
DUCK_DB = -18.0  # further down while someone speaks
DUCK_ATTACK_SECONDS = 0.15  # the bed starts going down this long before the first word
DUCK_RELEASE_SECONDS = 0.40  # and comes back up over this long after the last
MIX_TIMEOUT_SECONDS = 120


class MixError(VoiceError):
    """ffmpeg could not mix the track."""


def _db(gain: float) -> float:
    return float(10 ** (gain / 20))


def speech_spans(speeches: Sequence[Speech], starts: Sequence[float]) -> list[tuple[float, float]]:
    """Timeline spans where a voice sounds, merged when the bed could not come back between."""
    spans = []
    for speech, start in zip(speeches, starts, strict=True):
        if speech.words:
            spans.append((start + speech.words[0][0], start + speech.words[-1][1]))
        elif speech.wav is not None and speech.duration > 0:
            spans.append((start, start + speech.duration))
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a - merged[-1][1] < DUCK_ATTACK_SECONDS + DUCK_RELEASE_SECONDS:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def duck_expression(spans: Sequence[tuple[float, float]]) -> str:
    """A `volume` expression: 1 in the gaps, DUCK_DB under speech, linear ramps between."""
    if not spans:
        return "1"
    down, up = DUCK_ATTACK_SECONDS, DUCK_RELEASE_SECONDS
    ramps = [
        f"min(clip((t-{a - down:.4f})/{down},0,1),clip(({b + up:.4f}-t)/{up},0,1))"
        for a, b in spans
    ]
    depth = ramps[0]
    for ramp in ramps[1:]:
        depth = f"max({depth},{ramp})"
    return f"1-{1 - _db(DUCK_DB):.5f}*{depth}"


PCM_WAV = ("-ar", str(SAMPLE_RATE), "-ac", "2", "-c:a", "pcm_s16le")


def build_command(
    speeches: Sequence[Speech],
    starts: Sequence[float],
    total: float,
    out: Path,
    music: Path | None,
    encoding: Sequence[str],
) -> list[str]:
    samples = round(total * SAMPLE_RATE)
    stereo = f"aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
    fit = f"apad=whole_len={samples},atrim=end_sample={samples}"
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    graph, voices = [], []
    clips = [(s, t) for s, t in zip(speeches, starts, strict=True) if s.wav is not None]
    for index, (speech, start) in enumerate(clips):
        cmd += ["-i", str(speech.wav)]
        delay = max(0, round(start * SAMPLE_RATE))
        graph.append(f"[{index}:a]{stereo},adelay=delays={delay}S:all=1[v{index}]")
        voices.append(f"[v{index}]")
    if voices:
        mixed = f"amix=inputs={len(voices)}:normalize=0," if len(voices) > 1 else ""
        graph.append(f"{''.join(voices)}{mixed}{fit}[voice]")
    else:
        graph.append(f"anullsrc=r={SAMPLE_RATE}:cl=stereo,{fit}[voice]")
    if music is None:
        graph.append("[voice]anull[out]")
    else:
        cmd += ["-stream_loop", "-1", "-i", str(music)]
        duck = duck_expression(speech_spans(speeches, starts))
        graph.append(
            f"[{len(clips)}:a]{stereo},{fit},volume={_db(BED_GAIN_DB):.5f},"
            f"volume='{duck}':eval=frame[bed]"
        )
        graph.append("[voice][bed]amix=inputs=2:normalize=0:duration=first[out]")
    cmd += ["-filter_complex", ";".join(graph), "-map", "[out]"]
    return [*cmd, *encoding, str(out)]


def mix_track(
    speeches: Sequence[Speech],
    starts: Sequence[float],
    total: float,
    workdir: Path,
    *,
    music: Path | None,
    encoding: Sequence[str] | None = None,
) -> Path:
    """workdir/narration.wav: 48 kHz stereo, exactly `total` s, clips at their starts.
    With `encoding` (ffmpeg's output options for a 48 kHz stereo codec and an mp4 file),
    workdir/narration.m4a instead: the track as the video takes it, with no process more."""
    if len(speeches) != len(starts):
        raise ValueError(f"mix_track: {len(speeches)} speeches but {len(starts)} starts")
    if total <= 0:
        raise ValueError(f"mix_track: total must be positive, not {total}")
    if music is not None and not music.is_file():
        raise ValueError(f"mix_track: music bed {music} is not a file")
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / ("narration.wav" if encoding is None else "narration.m4a")
    cmd = build_command(speeches, starts, total, out, music, encoding or PCM_WAV)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=MIX_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        raise MixError(f"ffmpeg did not mix within {MIX_TIMEOUT_SECONDS} s") from exc
    if proc.returncode != 0:
        raise MixError(f"ffmpeg exited with status {proc.returncode}: {proc.stderr[-2000:]}")
    return out
