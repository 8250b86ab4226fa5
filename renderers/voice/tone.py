"""A voice for tests and previews: a soft sine tone per word, with exact word timings.

A real implementation of the Voice protocol (no engine, no network), so scene and caption
tests can run fast and know precisely when each word sounds.
"""

from __future__ import annotations

import array
import hashlib
import math
from pathlib import Path

from renderers.voice.pcm import write_wav
from renderers.voice.speech import Speech

TONE_RATE = 22_050  # Hz
TONE_HZ = 440.0
TONE_AMPLITUDE = 8000  # of 32767
SECONDS_PER_CHAR = 0.06
MIN_WORD_SECONDS = 0.15
WORD_GAP_SECONDS = 0.08
PAUSE_SECONDS = 0.30  # after a word ending a phrase or a sentence
LEAD_SECONDS = 0.05  # silence before the first word


class ToneVoice:
    name = "tone"

    def speak(self, text: str, locale: str, workdir: Path) -> Speech:
        if not text.strip():
            return Speech(wav=None, duration=0.0, words=[])
        samples = array.array("h", [0] * round(LEAD_SECONDS * TONE_RATE))
        words: list[tuple[float, float, str]] = []
        pending = ""  # spaces before the first word: joining the words gives the line back
        pieces = text.split(" ")
        for index, piece in enumerate(pieces):
            shown = pending + (piece if index == len(pieces) - 1 else piece + " ")
            spoken = piece.strip()
            if not spoken:
                if words:
                    a, b, before = words[-1]
                    words[-1] = (a, b, before + shown)
                else:
                    pending = shown
                continue
            pending = ""
            start = len(samples) / TONE_RATE
            count = round(max(MIN_WORD_SECONDS, SECONDS_PER_CHAR * len(spoken)) * TONE_RATE)
            samples.extend(
                round(TONE_AMPLITUDE * math.sin(2 * math.pi * TONE_HZ * i / TONE_RATE))
                for i in range(count)
            )
            words.append((start, len(samples) / TONE_RATE, shown))
            pause = PAUSE_SECONDS if spoken[-1] in ".,;:!?" else WORD_GAP_SECONDS
            samples.extend([0] * round(pause * TONE_RATE))
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        wav = write_wav(workdir / f"tone-{digest}.wav", samples, TONE_RATE)
        return Speech(wav=wav, duration=len(samples) / TONE_RATE, words=words)
