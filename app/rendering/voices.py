"""Choosing the narration voice from settings, and Amazon Polly as a `renderers.voice.Voice`.

Polly lives here, not in `renderers`, because renderers never import boto3. It is asked
twice per line: PCM audio, and word speech marks (JSON lines whose `start` is a byte offset
into the UTF-8 text and `time` the word's start in ms). Languages Polly cannot speak (Thai,
Hebrew) are spoken offline by eSpeak NG instead.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.infra.settings import Settings
from renderers.voice import SILENT, Speech, Voice, VoiceError, voice_by_name
from renderers.voice.pcm import samples_from_bytes, word_timings, write_wav

log = logging.getLogger(__name__)

VOICE_NAMES = ("espeak", "polly", "none")
POLLY_SAMPLE_RATE = 16_000  # Hz; Polly's PCM comes at 8000 or 16000
POLLY_MAX_CHARS = 3000  # Polly's limit of billed characters per request
POLLY_CONNECT_TIMEOUT_SECONDS = 5
POLLY_READ_TIMEOUT_SECONDS = 30
POLLY_MAX_ATTEMPTS = 4  # tries per request, the first included (standard retry mode, backoff)

# language (or language-region) -> (VoiceId, engine); BILLREEL_POLLY_VOICES overrides.
DEFAULT_POLLY_VOICES: dict[str, tuple[str, str]] = {
    "it": ("Bianca", "standard"),
    "fr": ("Celine", "standard"),
    "fr-ca": ("Chantal", "standard"),
    "en": ("Joanna", "standard"),
    "en-gb": ("Amy", "standard"),
    "de": ("Vicki", "standard"),
    "zh": ("Zhiyu", "standard"),
    "zh-hk": ("Hiujin", "neural"),
    "yue": ("Hiujin", "neural"),
    "ar": ("Zeina", "standard"),
}


def parse_polly_voices(raw: str | None) -> dict[str, tuple[str, str]]:
    """`it=Bianca,zh-HK=Hiujin:neural` -> {"it": ("Bianca", "standard"), ...}."""
    voices: dict[str, tuple[str, str]] = {}
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        tag, sep, voice = item.partition("=")
        voice_id, _, engine = voice.strip().partition(":")
        if not sep or not tag.strip() or not voice_id:
            raise ValueError(
                f"setting BILLREEL_POLLY_VOICES: {item.strip()!r} is not LOCALE=VoiceId[:engine]"
            )
        engine = engine or "standard"
        if engine not in ("standard", "neural", "long-form", "generative"):
            raise ValueError(f"setting BILLREEL_POLLY_VOICES: unknown engine {engine!r}")
        voices[tag.strip().lower().replace("_", "-")] = (voice_id, engine)
    return voices


def parse_speech_marks(text: str, marks_json_lines: str) -> list[tuple[int, float]]:
    """Polly's word marks as (character index in `text`, start s), in order of time."""
    encoded = text.encode("utf-8")
    marks = []
    for line in marks_json_lines.splitlines():
        if not line.strip():
            continue
        mark = json.loads(line)
        if mark.get("type") != "word":
            continue
        char = len(encoded[: int(mark["start"])].decode("utf-8", errors="ignore"))
        marks.append((char, int(mark["time"]) / 1000))
    return marks


class PollyVoice:
    """Amazon Polly through a boto3 client; `fallback` speaks the languages Polly lacks."""

    name = "polly"

    def __init__(
        self,
        client: Any,
        voices: Mapping[str, tuple[str, str]] | None = None,
        fallback: Voice | None = None,
    ) -> None:
        self.client = client
        self.voices = {**DEFAULT_POLLY_VOICES, **(voices or {})}
        self.fallback = fallback if fallback is not None else voice_by_name("espeak")

    def voice_for(self, locale: str) -> tuple[str, str] | None:
        parts = locale.lower().replace("_", "-").split("-")
        region = next((p for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
        if region and f"{parts[0]}-{region}" in self.voices:
            return self.voices[f"{parts[0]}-{region}"]
        return self.voices.get(parts[0])

    def _synthesize(self, text: str, voice: tuple[str, str], output: str, **extra: Any) -> bytes:
        try:
            response = self.client.synthesize_speech(
                Text=text,
                TextType="text",
                VoiceId=voice[0],
                Engine=voice[1],
                OutputFormat=output,
                SampleRate=str(POLLY_SAMPLE_RATE),
                **extra,
            )
            with response["AudioStream"] as stream:
                return bytes(stream.read())
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "unknown error")
            raise VoiceError(f"Polly could not synthesise speech: {code}") from exc
        except BotoCoreError as exc:
            raise VoiceError(f"Polly could not synthesise speech: {type(exc).__name__}") from exc

    def speak(self, text: str, locale: str, workdir: Path) -> Speech:
        if not text.strip():
            return Speech(wav=None, duration=0.0, words=[])
        voice = self.voice_for(locale)
        if voice is None:
            language = locale.split("-")[0].lower()[:3]
            log.info("no Polly voice for language %r; speaking with eSpeak NG", language)
            return self.fallback.speak(text, locale, workdir)
        if len(text) > POLLY_MAX_CHARS:
            raise VoiceError(f"narration line of {len(text)} characters; Polly takes 3000")
        samples = samples_from_bytes(self._synthesize(text, voice, "pcm"))
        marks_raw = self._synthesize(text, voice, "json", SpeechMarkTypes=["word"])
        marks = parse_speech_marks(text, marks_raw.decode("utf-8"))
        digest = hashlib.sha256(f"{voice}|{text}".encode()).hexdigest()[:16]
        wav = write_wav(workdir / f"polly-{digest}.wav", samples, POLLY_SAMPLE_RATE)
        return Speech(
            wav=wav,
            duration=len(samples) / POLLY_SAMPLE_RATE,
            words=word_timings(text, marks, samples, POLLY_SAMPLE_RATE),
        )


def polly_client() -> Any:
    """A Polly client from boto3's usual chain (AWS_* variables, config files, roles)."""
    config = Config(
        connect_timeout=POLLY_CONNECT_TIMEOUT_SECONDS,
        read_timeout=POLLY_READ_TIMEOUT_SECONDS,
        retries={"total_max_attempts": POLLY_MAX_ATTEMPTS, "mode": "standard"},
    )
    return boto3.session.Session().client("polly", config=config)


def voice_from_settings(settings: Settings, client: Any = None) -> Voice:
    """The narration voice BILLREEL_VOICE names; `client` overrides Polly's boto3 client.

    Without a client, voices are built once per setting and reused by every render (a
    boto3 client is thread-safe and slow to build).
    """
    if client is None:
        return _shared_voice(settings.voice, settings.polly_voices)
    return _build_voice(settings.voice, settings.polly_voices, client)


@functools.lru_cache(maxsize=8)
def _shared_voice(name: str, polly_voices: str | None) -> Voice:
    return _build_voice(name, polly_voices, None)


def _build_voice(name: str, polly_voices: str | None, client: Any) -> Voice:
    if name == "none":
        return SILENT
    if name == "espeak":
        return voice_by_name("espeak")
    if name == "polly":
        voices = parse_polly_voices(polly_voices)
        return PollyVoice(client if client is not None else polly_client(), voices)
    raise ValueError(f"setting BILLREEL_VOICE: {name!r} is not one of {VOICE_NAMES}")
