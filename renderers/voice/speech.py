"""What a voice gives back, and the protocol every voice implements."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from renderers.errors import RenderError


class VoiceError(RenderError):
    """Speech could not be synthesised or mixed (engine missing, ffmpeg or service failed)."""


@dataclass(frozen=True)
class Speech:
    """One spoken line: its audio (None when silent), length in seconds and word timings.

    `words` are (start s, end s, text) relative to the clip; each text runs up to the next
    word (trailing spaces and punctuation included), so joining the texts gives the line back.
    """

    wav: Path | None
    duration: float
    words: list[tuple[float, float, str]]


class Voice(Protocol):
    name: str

    def speak(self, text: str, locale: str, workdir: Path) -> Speech: ...


SILENT_SPEECH = Speech(wav=None, duration=0.0, words=[])


class SilentVoice:
    """The `none` voice: no audio, no time; scenes keep their own durations."""

    name = "none"

    def speak(self, text: str, locale: str, workdir: Path) -> Speech:
        return SILENT_SPEECH


SILENT: Voice = SilentVoice()
