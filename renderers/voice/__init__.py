"""Narration: speech per scene line, one mixed audio track, and captions timed to the voice.

    voice.speak(line) -> Speech (wav + word timings)      espeak (offline, default) | none
    narrate(lines)    -> one Speech per scene line         Polly lives in app/rendering/voices.py
    mix_track(...)    -> one 48 kHz stereo wav, music ducked under the voice
    caption_cues(...) -> WebVTT cues cut at sentence and phrase boundaries -> write_vtt

Word timings are relative to their clip; a scene's start places the clip on the timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from renderers.voice.captions import caption_cues, write_vtt
from renderers.voice.mix import mix_track
from renderers.voice.speech import SILENT, SILENT_SPEECH, Speech, Voice, VoiceError


def narrate(lines: Sequence[str], locale: str, voice: Voice, workdir: Path) -> list[Speech]:
    """One Speech per scene line, in order; an empty line is a silent Speech of 0 s."""
    workdir.mkdir(parents=True, exist_ok=True)
    speeches = []
    for index, line in enumerate(lines):
        if not line.strip():
            speeches.append(SILENT_SPEECH)
            continue
        # Each line gets its own directory so that clip files never collide.
        speeches.append(voice.speak(line, locale, workdir / f"line{index:03d}"))
    return speeches


def voice_by_name(name: str, **options: Any) -> Voice:
    """ "espeak" (offline, options: rate in words per minute) or "none"."""
    if name == "none":
        return SILENT
    if name == "espeak":
        from renderers.voice.espeak import EspeakVoice

        return EspeakVoice(**options)
    raise ValueError(f"voice: unknown name {name!r}; known: 'espeak', 'none' (polly: app)")


__all__ = [
    "SILENT",
    "Speech",
    "Voice",
    "VoiceError",
    "caption_cues",
    "mix_track",
    "narrate",
    "voice_by_name",
    "write_vtt",
]
