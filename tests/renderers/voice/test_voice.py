"""Voices and the mixed track, against real eSpeak NG and real ffmpeg/ffprobe."""

# ruff: noqa: RUF001 - the Chinese lines are written with their own fullwidth punctuation

from __future__ import annotations

import array
import dataclasses
import itertools
import re
import subprocess
from pathlib import Path

import pytest
import webvtt

from renderers import render
from renderers.templates import load_bundle
from renderers.voice import SILENT, Speech, Voice, mix_track, narrate, voice_by_name
from renderers.voice.espeak import EspeakUnavailable, EspeakVoice, engine
from renderers.voice.mix import DUCK_DB, SAMPLE_RATE
from renderers.voice.pcm import write_wav
from tests.factories import make_bill
from tests.paths import REPO_ROOT
from tests.realparts import ffprobe_json, missing, require

MUSIC = REPO_ROOT / "scenes" / "bill-explainer" / "assets" / "music.ogg"
FRAME_SECONDS = 1 / 30

# One short line per locale of the examples, and the eSpeak NG voice (identifier) it gets.
LINES = {
    "it-IT": ("Ciao Giulia, la tua bolletta è di 84,20 euro.", "roa/it"),
    "fr-FR": ("Bonjour Camille, votre facture est de 61,35 euros.", "roa/fr"),
    "en-GB": ("Hello Oliver, your bill comes to 48 pounds.", "gmw/en"),
    "de-DE": ("Hallo Jonas, Ihre Rechnung beträgt 92,10 Euro.", "gmw/de"),
    "th-TH": ("สวัสดีครับ คุณสมชาย ยอดรวม 1,250 บาท", "tai/th"),
    "zh-Hant-TW": ("您好，陳先生。您的帳單金額為 84 元。", "sit/cmn"),
    "zh-HK": ("你好，陳先生。", "sit/yue"),
    "ar-EG": ("مرحبا أحمد، فاتورتك 84 جنيه.", "sem/ar"),
    "he-IL": ("שלום דוד, החשבון שלך 84 שקל.", "sem/he"),
}


@pytest.fixture(scope="module")
def espeak() -> EspeakVoice:
    try:
        engine()
    except EspeakUnavailable as exc:
        missing(f"eSpeak NG ({exc})")
    return EspeakVoice()


def wav_seconds(path: Path) -> float:
    return float(ffprobe_json(path)["format"]["duration"])


@pytest.mark.parametrize("locale", sorted(LINES))
def test_every_locale_speaks(espeak: EspeakVoice, locale: str, tmp_path: Path) -> None:
    require("ffprobe")
    text, expected_voice = LINES[locale]
    speech = espeak.speak(text, locale, tmp_path)
    assert engine().voice_for(locale) == expected_voice
    assert speech.wav is not None and speech.wav.stat().st_size > 10_000
    assert abs(wav_seconds(speech.wav) - speech.duration) < 0.01
    assert 1.0 < speech.duration < 12.0
    assert "".join(word for _, _, word in speech.words) == text
    starts = [start for start, _, _ in speech.words]
    assert starts == sorted(starts)
    assert all(0 <= a < b <= speech.duration + 1e-6 for a, b, _ in speech.words)


def test_unknown_language_falls_back_to_english(
    espeak: EspeakVoice, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    speech = espeak.speak("Hello there.", "qq-ZZ", tmp_path)
    assert speech.duration > 0.3
    assert engine().voice_for("qq-ZZ") == engine().voice_for("en")
    assert "language 'qq'" in caplog.text
    assert "Hello" not in caplog.text


def test_narrate_gives_one_speech_per_line(espeak: EspeakVoice, tmp_path: Path) -> None:
    speeches = narrate(["", "Grazie.", "  "], "it", espeak, tmp_path)
    assert [s.wav is None for s in speeches] == [True, False, True]
    assert speeches[0] == Speech(wav=None, duration=0.0, words=[])
    assert speeches[1].duration > 0.3
    # The same line in the same voice is the same audio: renders are deterministic.
    again = narrate(["Grazie."], "it", espeak, tmp_path / "again")[0]
    assert again.wav is not None and speeches[1].wav is not None
    assert again.wav.read_bytes() == speeches[1].wav.read_bytes()


def test_the_none_voice_is_silent(tmp_path: Path) -> None:
    voice: Voice = voice_by_name("none")
    assert voice is SILENT and voice.name == "none"
    assert narrate(["Ciao.", ""], "it", voice, tmp_path) == [
        Speech(wav=None, duration=0.0, words=[]),
        Speech(wav=None, duration=0.0, words=[]),
    ]
    with pytest.raises(ValueError, match="unknown name 'polly'"):
        voice_by_name("polly")
    with pytest.raises(ValueError, match="rate"):
        voice_by_name("espeak", rate=5)


def test_mix_track_is_48k_stereo_of_the_exact_length(espeak: EspeakVoice, tmp_path: Path) -> None:
    require("ffmpeg")
    speeches = narrate(["Buongiorno.", "", "A presto!"], "it", espeak, tmp_path)
    total = 7.4
    # The last clip runs past the end: the track is cut to `total`.
    track = mix_track(speeches, [0.2, 2.0, 6.9], total, tmp_path, music=MUSIC)
    stream = ffprobe_json(track)["streams"][0]
    assert stream["sample_rate"] == str(SAMPLE_RATE)
    assert stream["channels"] == 2
    assert abs(float(stream["duration"]) - total) <= FRAME_SECONDS


def test_mix_track_without_voice_or_music_is_silence(tmp_path: Path) -> None:
    require("ffmpeg")
    track = mix_track([SILENT.speak("x", "it", tmp_path)], [0.0], 2.0, tmp_path, music=None)
    assert abs(wav_seconds(track) - 2.0) <= FRAME_SECONDS
    assert mean_volume(track, 0, 2) < -90


def mean_volume(path: Path, start: float, end: float) -> float:
    """ffmpeg's volumedetect mean (dB) over [start, end) s of `path`."""
    out = subprocess.run(
        [
            *(
                require("ffmpeg"),
                "-hide_banner",
                "-nostdin",
                "-ss",
                f"{start}",
                "-t",
                f"{end - start}",
            ),
            *("-i", str(path), "-af", "volumedetect", "-f", "null", "-"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    found = re.search(r"mean_volume: (-?[\d.]+|-inf) dB", out)
    assert found, out[-500:]
    return float(found.group(1))


def test_music_bed_is_ducked_under_speech(tmp_path: Path) -> None:
    """A clip of silence with word timings ducks the bed, so the mix is the bed alone."""
    require("ffmpeg")
    quiet = write_wav(tmp_path / "quiet.wav", array.array("h", [0] * 22050 * 3), 22050)
    speech = Speech(wav=quiet, duration=3.0, words=[(0.0, 1.4, "uno "), (1.5, 3.0, "due.")])
    ducked = mix_track([speech], [4.0], 12.0, tmp_path / "ducked", music=MUSIC)
    bed = mix_track([], [], 12.0, tmp_path / "bed", music=MUSIC)
    under = (4.2, 6.8)  # inside the speech, past the ramp down
    for gap in [(0.0, 3.5), (7.6, 12.0)]:  # before the ramp down, after the ramp up
        assert mean_volume(ducked, *gap) - mean_volume(ducked, *under) >= 10
        assert abs(mean_volume(ducked, *gap) - mean_volume(bed, *gap)) < 0.5
    assert mean_volume(bed, *under) - mean_volume(ducked, *under) == pytest.approx(-DUCK_DB, abs=1)


def test_the_offline_voice_comes_from_the_wheel() -> None:
    """`make test` needs no system package for the voice: the espeakng-loader wheel (a
    runtime dependency) ships the library and its voices, and is preferred to Debian's."""
    try:
        import espeakng_loader
    except ImportError:
        missing("the espeakng-loader wheel (pip install -e .)")
    wheel = Path(espeakng_loader.__file__).resolve().parent
    assert Path(engine().library_path).resolve().is_relative_to(wheel)
    assert Path(espeakng_loader.get_data_path()).resolve().is_relative_to(wheel)


class MutedVoice:
    """eSpeak NG's timings with silent audio: what is left in the mix is the music bed."""

    name = "muted"

    def __init__(self, voice: EspeakVoice) -> None:
        self.voice = voice

    def speak(self, text: str, locale: str, workdir: Path) -> Speech:
        spoken = self.voice.speak(text, locale, workdir)
        if spoken.wav is None:
            return spoken
        rate = 22_050
        quiet = array.array("h", [0] * round(spoken.duration * rate))
        wav = write_wav(workdir / f"muted-{spoken.wav.name}", quiet, rate)
        return Speech(wav=wav, duration=spoken.duration, words=spoken.words)


def test_the_rendered_video_ducks_the_music_under_the_narration(
    espeak: EspeakVoice, tmp_path: Path
) -> None:
    """A whole render with the music bed: the bed drops by DUCK_DB wherever a caption says
    someone speaks, and is back at its level in the pauses between scenes."""
    bundle = load_bundle("bill-explainer")
    audio = bundle.spec.audio.model_copy(update={"music": "assets/music.ogg"})
    bundle = dataclasses.replace(bundle, spec=bundle.spec.model_copy(update={"audio": audio}))
    bill = make_bill(drop=["tips"])
    out = render(bill, bundle, ["video"], tmp_path / "out", voice=MutedVoice(espeak))
    assert out.video is not None and out.captions is not None
    probe = ffprobe_json(out.video)
    video, sound = (
        next(s for s in probe["streams"] if s["codec_type"] == k) for k in ("video", "audio")
    )
    assert (sound["codec_name"], sound["sample_rate"], sound["channels"]) == ("aac", "48000", 2)
    total = float(video["duration"])
    assert abs(float(sound["duration"]) - total) <= 0.1
    decoded = tmp_path / "decoded.wav"
    subprocess.run(
        [
            require("ffmpeg"),
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(out.video),
            "-vn",
            str(decoded),
        ],
        check=True,
    )
    bed = mix_track([], [], total, tmp_path / "bed", music=MUSIC)
    cues = [
        (c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000)
        for c in webvtt.read(str(out.captions)).captions
    ]
    assert len(cues) >= 6
    under = [(a + 0.25, b - 0.1) for a, b in cues if b - a >= 1.0]
    gaps = [(b + 0.6, c - 0.3) for (_, b), (c, _) in itertools.pairwise(cues) if c - b >= 1.5]
    assert len(under) >= 3 and len(gaps) >= 2
    for span in under:
        assert mean_volume(bed, *span) - mean_volume(decoded, *span) == pytest.approx(
            -DUCK_DB, abs=2
        )
    for span in gaps:
        assert abs(mean_volume(bed, *span) - mean_volume(decoded, *span)) < 1.5
