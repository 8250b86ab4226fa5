"""Mono 16-bit PCM: write it as a wav, and turn engine word marks into trimmed word timings.

Engines mark where a word starts, not where its sound ends: the gap to the next mark holds
the pause after a comma or a full stop. Captions must end with the voice (within 100 ms), so
each word is trimmed to the first and last loud window between its mark and the next one.
"""

from __future__ import annotations

import array
import sys
import wave
from collections.abc import Sequence
from pathlib import Path

WINDOW_SECONDS = 0.005  # energy windows for trimming word edges
LOUD_THRESHOLD = 500  # peak sample (of 32767) that counts as voice, about -36 dBFS


def samples_from_bytes(raw: bytes) -> array.array[int]:
    """Little-endian signed 16-bit PCM bytes as samples."""
    samples = array.array("h")
    samples.frombytes(raw[: len(raw) - len(raw) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def write_wav(path: Path, samples: array.array[int], rate: int) -> Path:
    data = samples
    if sys.byteorder == "big":
        data = array.array("h", samples)
        data.byteswap()
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data.tobytes())
    return path


def _loud_span(
    samples: array.array[int], rate: int, start: float, end: float
) -> tuple[float, float] | None:
    """First and last loud window in [start, end) seconds, or None when all is quiet."""
    step = max(1, round(WINDOW_SECONDS * rate))
    first = last = None
    lo, hi = round(start * rate), min(len(samples), round(end * rate))
    for at in range(lo, hi, step):
        window = samples[at : min(at + step, hi)]
        if max(window) >= LOUD_THRESHOLD or -min(window) >= LOUD_THRESHOLD:
            if first is None:
                first = at
            last = min(at + step, hi)
    if first is None or last is None:
        return None
    return first / rate, last / rate


def word_timings(
    text: str, marks: Sequence[tuple[int, float]], samples: array.array[int], rate: int
) -> list[tuple[float, float, str]]:
    """(start s, end s, text) per word from marks (character index in `text`, start s).

    Marks that point back into the previous word (engines mark the parts of a spoken number
    separately) extend that word. Each word's text runs to the next word, so joining gives
    `text` back; the first word also takes any text before it.
    """
    kept: list[tuple[int, float]] = []
    for char, at in sorted(marks, key=lambda mark: mark[1]):
        if kept and char <= kept[-1][0]:
            continue
        kept.append((max(0, min(char, len(text))), at))
    if not kept:
        return []
    duration = len(samples) / rate
    words = []
    for index, (char, at) in enumerate(kept):
        next_char, next_at = kept[index + 1] if index + 1 < len(kept) else (len(text), duration)
        span = _loud_span(samples, rate, at, max(at, next_at))
        start, end = span if span is not None else (at, max(at, next_at))
        words.append((start, end, text[0 if index == 0 else char : next_char]))
    return [word for word in words if word[2]]
