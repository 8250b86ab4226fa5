"""The offline voice: eSpeak NG's library driven through ctypes, with word events.

The library and its voice data come from the `espeakng-loader` wheel when it is installed
(the same voices on every machine), otherwise from Debian's `libespeak-ng1`. The library
keeps global state and is not thread-safe: one engine per process, one synthesis at a time.
Synchronous mode hands us the samples and, with them, a WORD event per word carrying its
character position and its audio position in milliseconds: exact timings for captions.
"""

from __future__ import annotations

import array
import ctypes
import ctypes.util
import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from renderers.voice.locales import espeak_candidates
from renderers.voice.pcm import word_timings, write_wav
from renderers.voice.speech import Speech, VoiceError

log = logging.getLogger(__name__)

DEFAULT_RATE_WPM = 165  # speaking rate, words per minute (eSpeak NG's own default is 175)
FALLBACK_VOICE = "en"  # the language spoken when a locale has no voice

# espeak_lib.h constants
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
POS_CHARACTER = 1
CHARS_UTF8 = 1
PARAMETER_RATE = 1
EE_OK = 0


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based character index into the text
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds into this synthesis
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),  # union of int, const char* and char[8]
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class EspeakUnavailable(VoiceError):
    """Neither the espeakng-loader wheel nor the system's libespeak-ng could be loaded."""


def _library() -> tuple[ctypes.CDLL, str, bytes | None]:
    """The library, where it was found, and its voice data directory (None: its built-in)."""
    try:
        import espeakng_loader
    except ImportError:
        name = ctypes.util.find_library("espeak-ng")
        if name is None:
            raise EspeakUnavailable(
                "eSpeak NG not found: pip install espeakng-loader, or apt-get install espeak-ng"
            ) from None
        return ctypes.CDLL(name), name, None
    path = str(espeakng_loader.get_library_path())
    return ctypes.CDLL(path), path, str(espeakng_loader.get_data_path()).encode()


class _VoiceSpec(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, language, NUL)..., then a NUL
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


def _languages(raw: bytes) -> list[tuple[int, str]]:
    found, at = [], 0
    while at < len(raw) and raw[at] != 0:
        end = raw.index(b"\0", at + 1)
        found.append((raw[at], raw[at + 1 : end].decode("ascii", "replace").lower()))
        at = end + 1
    return found


class _Engine:
    """The process's one eSpeak NG instance; every call holds the lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        lib, self.library_path, data_path = _library()
        lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceSpec))
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise EspeakUnavailable("eSpeak NG did not initialise (voice data missing?)")
        self.lib = lib
        self.sample_rate = int(rate)
        self._samples = array.array("h")
        self._marks: list[tuple[int, float]] = []
        self._covered = 0  # characters already spoken for by a word event
        self._callback = _CALLBACK(self._collect)  # kept referenced while the library holds it
        lib.espeak_SetSynthCallback(self._callback)
        self.by_language = self._list_voices()
        self._voices: dict[str, str] = {}

    def _list_voices(self) -> dict[str, str]:
        """language tag (lower case) -> identifier of its preferred voice."""
        best: dict[str, tuple[int, str]] = {}
        voices = self.lib.espeak_ListVoices(None)
        index = 0
        while voices[index]:
            voice = voices[index].contents
            identifier = (voice.identifier or b"").decode("ascii", "replace")
            for priority, language in _languages(ctypes.string_at(voice.languages, 256)):
                if language not in best or priority < best[language][0]:
                    best[language] = (priority, identifier)
            index += 1
        return {language: identifier for language, (_, identifier) in best.items()}

    def _collect(self, wav: Any, count: int, events: Any) -> int:
        if count > 0:
            self._samples.extend(wav[:count])
        index = 0
        while events[index].type != EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == EVENT_WORD:
                char = event.text_position - 1
                # A spoken number gives one event per part, pointing inside its own text.
                if char >= self._covered:
                    self._marks.append((char, event.audio_position / 1000))
                self._covered = max(self._covered, char + max(1, event.length))
            index += 1
        return 0  # go on

    def voice_for(self, locale: str) -> str:
        """The voice (identifier) for a BCP 47 tag, most specific first; English at last."""
        if locale not in self._voices:
            candidates, language = espeak_candidates(locale)
            chosen = next((self.by_language[c] for c in candidates if c in self.by_language), None)
            if chosen is None:
                chosen = self.by_language.get(FALLBACK_VOICE, FALLBACK_VOICE)
                log.warning(
                    "no eSpeak NG voice for language %r; speaking with %r", language, chosen
                )
            self._voices[locale] = chosen
        return self._voices[locale]

    def synthesise(
        self, text: str, voice: str, rate_wpm: int
    ) -> tuple[array.array[int], list[tuple[int, float]]]:
        """Samples and word marks of `text`, from the library as it was when first loaded.

        The library keeps state from one synthesis to the next (its pitch flutter, for one),
        so the same line would sound a few samples different each time. Each synthesis runs
        in a forked child of a process that never synthesised: the same text always gives
        the same audio, which makes narration cacheable and renders repeatable.
        """
        if not hasattr(os, "fork"):
            return self._synthesise_here(text, voice, rate_wpm)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: synthesise, send, and leave without running Python's exit
            status = 1
            try:
                os.close(read_end)
                samples, marks = self._synthesise_here(text, voice, rate_wpm)
                header = json.dumps(marks).encode()
                with os.fdopen(write_end, "wb") as out:
                    out.write(len(header).to_bytes(8, "little") + header + samples.tobytes())
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if status != 0 or len(data) < 8:
            raise EspeakUnavailable(f"eSpeak NG synthesis failed (child status {status})")
        size = int.from_bytes(data[:8], "little")
        marks = [(int(char), float(at)) for char, at in json.loads(data[8 : 8 + size])]
        samples = array.array("h")
        samples.frombytes(data[8 + size :])
        return samples, marks

    def _synthesise_here(
        self, text: str, voice: str, rate_wpm: int
    ) -> tuple[array.array[int], list[tuple[int, float]]]:
        self._samples = array.array("h")
        self._marks = []
        self._covered = 0
        if self.lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
            raise EspeakUnavailable(f"eSpeak NG voice {voice!r} could not be selected")
        self.lib.espeak_SetParameter(PARAMETER_RATE, rate_wpm, 0)
        data = text.encode("utf-8") + b"\0"
        status = self.lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        if status != EE_OK:
            raise EspeakUnavailable(f"eSpeak NG synthesis failed with status {status}")
        return self._samples, self._marks


_engine: _Engine | None = None
_engine_lock = threading.Lock()


def engine() -> _Engine:
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Engine()
        return _engine


class EspeakVoice:
    """eSpeak NG, offline: a mono wav per line at the library's rate (22.05 kHz)."""

    name = "espeak"

    def __init__(self, rate: int = DEFAULT_RATE_WPM) -> None:
        if not 80 <= rate <= 450:
            raise ValueError(f"voice rate: {rate} words per minute is outside 80..450")
        self.rate = rate

    def speak(self, text: str, locale: str, workdir: Path) -> Speech:
        if not text.strip():
            return Speech(wav=None, duration=0.0, words=[])
        eng = engine()
        with eng.lock:
            voice = eng.voice_for(locale)
            samples, marks = eng.synthesise(text, voice, self.rate)
        rate = eng.sample_rate
        # Named by content: the same line in the same voice is the same file.
        digest = hashlib.sha256(f"{voice}|{self.rate}|{text}".encode()).hexdigest()[:16]
        wav = write_wav(workdir / f"espeak-{digest}.wav", samples, rate)
        words = word_timings(text, marks, samples, rate)
        return Speech(wav=wav, duration=len(samples) / rate, words=words)
