"""Amazon Polly as a narration voice, and choosing the voice from settings.

moto's server mode does not speak Polly's SynthesizeSpeech for real: it answers eight NUL
bytes whatever the text, and refuses word speech marks for plain text, which Polly accepts.
So PollyVoice is tested over HTTP against `PollyServer`, a local endpoint of Polly's REST
API (POST /v1/speech, JSON in; 16-bit PCM or JSON lines of word marks out; errors as
`x-amzn-ErrorType`), reached by a real boto3 client built by `polly_client()` (its retries
and timeouts, SigV4 signing, request serialisation and streaming body all for real). What
the server says is a tone per word, at times it reports in marks with UTF-8 byte offsets,
as Polly does; the sound of a real Polly voice is not tested here.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from app.infra.settings import Settings
from app.rendering.job import is_transient
from app.rendering.voices import (
    PollyVoice,
    parse_polly_voices,
    parse_speech_marks,
    polly_client,
    voice_from_settings,
)
from renderers.voice import SILENT, VoiceError, caption_cues
from renderers.voice.espeak import EspeakUnavailable, EspeakVoice, engine
from tests.realparts import missing
from tests.s3server import DUMMY_REGION, set_dummy_aws_env

# Word marks for "Città è già pagata." in Polly's documented format (JSON lines; `start`
# and `end` count UTF-8 bytes, so every "à" and "è" shifts them by one; `time` is in ms).
RECORDED_MARKS = """\
{"time":0,"type":"sentence","start":0,"end":23,"value":"Città è già pagata."}
{"time":6,"type":"word","start":0,"end":6,"value":"Città"}
{"time":420,"type":"word","start":7,"end":9,"value":"è"}
{"time":512,"type":"word","start":10,"end":14,"value":"già"}
{"time":790,"type":"word","start":15,"end":21,"value":"pagata"}
"""

WORD_SECONDS = 0.3  # what PollyServer "says": a 300 Hz tone per word, then a gap
GAP_SECONDS = 0.2
PCM_RATES = ("8000", "16000")
KNOWN_VOICES = frozenset({"Bianca", "Adriano", "Celine", "Joanna", "Amy", "Vicki", "Daniel"})
ENGINES = frozenset({"standard", "neural", "long-form", "generative"})


def test_speech_marks_become_character_positions() -> None:
    text = "Città è già pagata."
    marks = parse_speech_marks(text, RECORDED_MARKS)
    assert marks == [(0, 0.006), (6, 0.42), (8, 0.512), (12, 0.79)]
    assert [text[c : c + 3] for c, _ in marks] == ["Cit", "è g", "già", "pag"]


@dataclass
class PollyServer:
    """A local Polly endpoint: what it was asked, and errors to answer next (FIFO)."""

    endpoint_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: list[tuple[int, str]] = field(default_factory=list)

    def speech_requests(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["path"] == "/v1/speech"]


def synthesize(params: dict[str, Any]) -> tuple[int, str, bytes]:
    """Polly's SynthesizeSpeech rules, and a tone per word: (status, content type, body)."""
    text, fmt = params.get("Text"), params.get("OutputFormat")
    if not text or not fmt or not params.get("VoiceId"):
        return 400, "MissingParameter", b""
    if params["VoiceId"] not in KNOWN_VOICES or params.get("Engine", "standard") not in ENGINES:
        return 400, "InvalidParameterValue", b""
    if len(text) > 3000:
        return 400, "TextLengthExceededException", b""
    marks = params.get("SpeechMarkTypes")
    if (fmt == "json") != bool(marks) or fmt not in ("json", "pcm"):
        return 400, "MarksNotSupportedForFormatException", b""
    if fmt == "pcm" and params.get("SampleRate", "16000") not in PCM_RATES:
        return 400, "InvalidSampleRateException", b""
    rate = int(params.get("SampleRate", "16000"))
    samples, lines, at, offset = bytearray(), [], 0.0, 0
    encoded = text.encode("utf-8")
    for word in text.split():
        start = encoded.index(word.encode(), offset)
        offset = start + len(word.encode())
        mark = {"time": round(at * 1000), "type": "word", "start": start, "end": offset}
        lines.append(json.dumps(mark | {"value": word}, ensure_ascii=False))
        for i in range(round(WORD_SECONDS * rate)):
            sample = round(9000 * math.sin(2 * math.pi * 300 * i / rate))
            samples += sample.to_bytes(2, "little", signed=True)
        samples += bytes(2 * round(GAP_SECONDS * rate))
        at += WORD_SECONDS + GAP_SECONDS
    if fmt == "pcm":
        return 200, "audio/pcm", bytes(samples)
    return 200, "application/x-json-stream", "\n".join(lines).encode() + b"\n"


@pytest.fixture
def polly(monkeypatch: pytest.MonkeyPatch) -> Iterator[PollyServer]:
    """A PollyServer on a free loopback port; boto3 is pointed at it by AWS_ENDPOINT_URL_POLLY."""
    state: PollyServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.loads(raw or b"{}")
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append({"path": self.path, "headers": headers, "body": body})
            if self.path != "/v1/speech":
                status, kind, payload = 404, "UnknownOperationException", b""
            elif state.faults:
                (status, kind), payload = state.faults.pop(0), b""
            else:
                status, kind, payload = synthesize(body)
            self.send_response(status)
            if status != 200:
                payload = json.dumps({"message": f"{kind} (local Polly)"}).encode()
                self.send_header("x-amzn-ErrorType", f"{kind}:http://internal.amazon.com/")
                kind = "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-amzn-RequestCharacters", str(len(body.get("Text", ""))))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = PollyServer(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    set_dummy_aws_env(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL_POLLY", state.endpoint_url)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_polly_voice_speaks_with_word_timings(polly: PollyServer, tmp_path: Path) -> None:
    voice = voice_from_settings(Settings(voice="polly"), client=polly_client())
    assert isinstance(voice, PollyVoice)
    speech = voice.speak("Città è già pagata.", "it-IT", tmp_path)
    assert speech.wav is not None and speech.wav.name.startswith("polly-")
    assert speech.duration == pytest.approx(4 * (WORD_SECONDS + GAP_SECONDS), abs=0.001)
    assert [w for _, _, w in speech.words] == ["Città ", "è ", "già ", "pagata."]
    # Word ends are trimmed to the sound: each tone lasts WORD_SECONDS.
    step = WORD_SECONDS + GAP_SECONDS
    for index, (start, end, _) in enumerate(speech.words):
        assert start == pytest.approx(index * step, abs=0.01)
        assert end == pytest.approx(index * step + WORD_SECONDS, abs=0.01)
    ((start, end, text),) = caption_cues([speech], [2.0])
    assert (start, text) == (2.0, "Città è già pagata.")
    assert end == pytest.approx(2.0 + 3 * step + WORD_SECONDS, abs=0.01)
    # What went over the wire: two signed SynthesizeSpeech requests, audio then marks.
    assert [r["path"] for r in polly.requests] == ["/v1/speech", "/v1/speech"]
    pcm, marks = polly.speech_requests()
    assert pcm == {
        "Text": "Città è già pagata.", "TextType": "text", "VoiceId": "Bianca",
        "Engine": "standard", "OutputFormat": "pcm", "SampleRate": "16000",
    }  # fmt: skip
    assert marks == pcm | {"OutputFormat": "json", "SpeechMarkTypes": ["word"]}
    authorization = polly.requests[0]["headers"]["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert f"/{DUMMY_REGION}/polly/aws4_request" in authorization


def test_polly_retries_throttling_then_speaks(polly: PollyServer, tmp_path: Path) -> None:
    polly.faults.append((400, "ThrottlingException"))
    speech = PollyVoice(polly_client()).speak("Danke schön.", "de-DE", tmp_path)
    assert len(speech.words) == 2
    assert [r["VoiceId"] for r in polly.speech_requests()] == ["Vicki"] * 3


def test_polly_errors_say_whether_a_retry_may_help(polly: PollyServer, tmp_path: Path) -> None:
    once = boto3.session.Session().client(
        "polly", config=Config(retries={"total_max_attempts": 1, "mode": "standard"})
    )
    polly.faults.append((500, "ServiceFailureException"))
    with pytest.raises(VoiceError, match="ServiceFailureException") as failed:
        PollyVoice(once).speak("Hello.", "en-US", tmp_path)
    assert is_transient(failed.value)
    # A request Polly refuses is a permanent failure (here: a voice it does not have).
    voice = PollyVoice(once, parse_polly_voices("en=Nobody"))
    with pytest.raises(VoiceError) as refused:
        voice.speak("Hello.", "en-US", tmp_path)
    assert not is_transient(refused.value)
    assert "Hello" not in str(refused.value)  # customer text never goes into an error


def test_polly_falls_back_to_espeak_where_it_has_no_voice(
    polly: PollyServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        engine()
    except EspeakUnavailable as exc:
        missing(f"eSpeak NG ({exc})")
    caplog.set_level("INFO")
    speech = PollyVoice(polly_client()).speak("สวัสดีครับ", "th-TH", tmp_path)
    assert polly.requests == []
    assert speech.wav is not None and speech.wav.name.startswith("espeak-")
    assert "no Polly voice for language 'th'" in caplog.text
    assert "สวัสดี" not in caplog.text


def test_polly_voices_setting() -> None:
    assert parse_polly_voices(None) == {}
    assert parse_polly_voices(" it=Adriano:neural, zh_HK=Hiujin:neural,en-GB=Amy ") == {
        "it": ("Adriano", "neural"),
        "zh-hk": ("Hiujin", "neural"),
        "en-gb": ("Amy", "standard"),
    }
    for bad in ("it", "it=", "=Bianca", "it=Bianca:turbo"):
        with pytest.raises(ValueError, match="BILLREEL_POLLY_VOICES"):
            parse_polly_voices(bad)
    voice = PollyVoice(object(), parse_polly_voices("it=Adriano:neural"))
    assert voice.voice_for("it-IT") == ("Adriano", "neural")
    assert voice.voice_for("zh-Hant-HK") == ("Hiujin", "neural")
    assert voice.voice_for("zh-Hant-TW") == ("Zhiyu", "standard")
    assert voice.voice_for("he-IL") is None


def test_voice_from_settings(polly: PollyServer) -> None:
    assert Settings().voice == "espeak"
    assert voice_from_settings(Settings(voice="none")) is SILENT
    assert isinstance(voice_from_settings(Settings()), EspeakVoice)
    settings = Settings.from_env(
        {"BILLREEL_VOICE": "polly", "BILLREEL_POLLY_VOICES": "de=Daniel:neural"}
    )
    client = polly_client()
    voice = voice_from_settings(settings, client=client)
    assert isinstance(voice, PollyVoice) and voice.client is client
    assert voice.voice_for("de-DE") == ("Daniel", "neural")
    # Without a client: boto3's own, from the usual AWS_* variables (no request is made).
    built = voice_from_settings(Settings(voice="polly"))
    assert isinstance(built, PollyVoice)
    assert built.client.meta.service_model.service_name == "polly"
    assert polly.requests == []
    with pytest.raises(ValueError, match="BILLREEL_VOICE"):
        voice_from_settings(Settings(voice="festival"))
