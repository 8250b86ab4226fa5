"""Captions: cues cut at sentence and phrase boundaries, timed within 100 ms of the voice."""

# ruff: noqa: RUF001 - the Chinese lines are written with their own fullwidth punctuation

from __future__ import annotations

import dataclasses
import itertools
import re
import subprocess
from pathlib import Path

import pytest
import webvtt

from renderers import render
from renderers.story import facts as bill_facts
from renderers.templates import load_bundle
from renderers.video import Job, plan_video
from renderers.video.formats import FPS
from renderers.voice import Speech, caption_cues, mix_track, narrate, write_vtt
from renderers.voice.captions import MAX_CHARS, width
from renderers.voice.espeak import EspeakUnavailable, EspeakVoice, engine
from renderers.voice.tone import ToneVoice
from tests.factories import LOCALES, make_bill
from tests.realparts import ffprobe_json, missing, require

TOLERANCE_SECONDS = 0.100  # the bound between a cue edge and the audio
SILENCE_DB = -40  # quieter than this is no voice
SILENCE_MIN_SECONDS = 0.09  # pauses at commas and full stops are longer; most stops shorter


def voice_islands(
    track: Path, length: float, min_silence: float = SILENCE_MIN_SECONDS
) -> list[tuple[float, float]]:
    """(onset, offset) s of each stretch of sound in `track` (`length` s long), measured by
    ffmpeg's silencedetect."""
    out = subprocess.run(
        [
            *(require("ffmpeg"), "-hide_banner", "-nostdin", "-i", str(track)),
            *("-af", f"silencedetect=n={SILENCE_DB}dB:d={min_silence}", "-f", "null", "-"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    quiet_from = [float(x) for x in re.findall(r"silence_start: (-?[\d.]+)", out)]
    quiet_to = [float(x) for x in re.findall(r"silence_end: ([\d.]+)", out)]
    onsets = quiet_to if quiet_from and quiet_from[0] <= 0 else [0.0, *quiet_to]
    offsets = [q for q in quiet_from if q > 0]
    offsets += [length] * (len(onsets) - len(offsets))  # sound up to the end
    # silencedetect ends a trailing silence at the end of the stream: no sound there.
    return [(a, b) for a, b in zip(onsets, offsets, strict=True) if b - a > 0.01]


def check_cues_against_voice(
    cues: list[tuple[float, float, str]], islands: list[tuple[float, float]]
) -> int:
    """Every cue edge is within TOLERANCE_SECONDS of the voice starting or stopping, or, where
    a sentence is cut in the middle of continuous speech, the next cue takes over right there.
    Every stretch of voice is captioned. Returns how many cue edges sat on a measured pause.
    """
    onsets = [a for a, _ in islands]
    offsets = [b for _, b in islands]

    def voiced(t: float) -> bool:
        return any(a < t < b for a, b in islands)

    measured = 0
    for i, (start, end, text) in enumerate(cues):
        assert start < end, (start, end, text)
        if min(abs(start - o) for o in onsets) <= TOLERANCE_SECONDS:
            measured += 1
        else:  # a cut mid-flow: the cue before ends where this one starts, in the voice
            assert i > 0 and start - cues[i - 1][1] <= TOLERANCE_SECONDS, (start, text, islands)
            assert voiced(start), (start, text, islands)
        if min(abs(end - o) for o in offsets) <= TOLERANCE_SECONDS:
            measured += 1
        else:
            assert i + 1 < len(cues) and cues[i + 1][0] - end <= TOLERANCE_SECONDS, (end, text)
            assert voiced(end), (end, text, islands)
    for onset, offset in islands:  # no voice without a caption
        assert any(a - TOLERANCE_SECONDS <= onset and offset <= b + TOLERANCE_SECONDS
                   for a, b in merged(cues)), (onset, offset, cues)  # fmt: skip
    return measured


def merged(cues: list[tuple[float, float, str]]) -> list[tuple[float, float]]:
    """Cue spans joined where one cue takes over from the last within the tolerance."""
    spans: list[tuple[float, float]] = []
    for a, b, _ in cues:
        if spans and a - spans[-1][1] <= TOLERANCE_SECONDS:
            spans[-1] = (spans[-1][0], max(spans[-1][1], b))
        else:
            spans.append((a, b))
    return spans


def espeak_or_skip() -> EspeakVoice:
    try:
        engine()
    except EspeakUnavailable as exc:
        missing(f"eSpeak NG ({exc})")
    return EspeakVoice()


@pytest.mark.parametrize(
    ("voice_name", "locale", "lines"),
    [
        (
            "espeak",
            "it-IT",
            [
                # Cut at "!", at the comma (the sentence is too long for a line) and at "."
                "Ciao Giulia! La bolletta di novembre è di 84,20 euro, "
                "da pagare entro il 30 novembre.",
                "",
                "Paga in un attimo: inquadra il codice QR.",
            ],
        ),
        ("espeak", "zh-Hant-TW", ["您好，陳先生。您的帳單金額為 84 元。"]),
        # The tone voice pauses 80 ms between words: every word is measured, so is every cut.
        ("tone", "en", ["Hello Oliver, your bill is ready. Pay it by the end of the month "
                        "with one tap on the button of your bill page, or scan the code."]),
    ],
)  # fmt: skip
def test_cues_are_within_100_ms_of_the_voice(
    voice_name: str, locale: str, lines: list[str], tmp_path: Path
) -> None:
    voice = espeak_or_skip() if voice_name == "espeak" else ToneVoice()
    speeches = narrate(lines, locale, voice, tmp_path)
    starts, at = [], 0.7
    for speech in speeches:  # scenes a little longer than their narration
        starts.append(at)
        at += max(speech.duration, 1.0) + 0.5
    track = mix_track(speeches, starts, at, tmp_path, music=None)
    cues = caption_cues(speeches, starts)
    assert len(cues) >= 2
    fine = voice_name == "tone"
    islands = voice_islands(track, at, 0.05 if fine else SILENCE_MIN_SECONDS)
    measured = check_cues_against_voice(cues, islands)
    if fine or voice_name == "espeak":  # these lines are cut only at pauses
        assert measured == 2 * len(cues)
    assert abs(cues[0][0] - islands[0][0]) <= TOLERANCE_SECONDS
    assert abs(cues[-1][1] - islands[-1][1]) <= TOLERANCE_SECONDS
    spoken = "".join("".join(w for _, _, w in s.words) for s in speeches)
    assert "".join(text for _, _, text in cues).replace(" ", "") == spoken.replace(" ", "")


@pytest.mark.parametrize("lang", list(LOCALES))
def test_every_locale_captions_its_narration(lang: str, tmp_path: Path) -> None:
    """The template's own narration for a bill in each locale: planned by the video engine
    (scenes stretched to their speech), mixed, measured; then the cues are read."""
    voice = espeak_or_skip()
    tag, name = LOCALES[lang]
    bundle = load_bundle("bill-explainer")
    bill = make_bill(**{"customer.locale": tag, "customer.name": name}, drop=["tips"])
    facts = bill_facts(bill, bundle.locale)
    narration = bundle.narration.filled(facts.locale, facts.placeholders())
    job = Job(bundle.name, bundle.spec, bundle.scenes_dir,
              bundle.narration.for_locale(facts.locale))  # fmt: skip
    _, planned, speeches = plan_video(bill, facts, job, narration, tmp_path, voice=voice)
    starts = [p.start / FPS for p in planned]
    total = (planned[-1].start + planned[-1].frames) / FPS
    for p, speech in zip(planned, speeches, strict=True):  # every scene holds its narration
        assert p.seconds >= speech.duration + bundle.spec.narration_padding - 1 / FPS
        assert p.seconds >= p.scene.duration - 1 / FPS
    track = mix_track(speeches, starts, total, tmp_path, music=None)
    cues = caption_cues(speeches, starts)
    measured = check_cues_against_voice(cues, voice_islands(track, total))
    assert measured >= len(cues)  # most edges sit on pauses
    texts = [text for _, _, text in cues]
    assert name in texts[0]
    assert all(width(text) <= MAX_CHARS or " " not in text for text in texts), texts
    assert all(width(text) >= 4 for text in texts), texts  # no scraps
    spoken = "".join("".join(w for _, _, w in s.words) for s in speeches)
    zwsp = "\u200b"  # Thai text marks word boundaries with it; a cue does not end with one
    assert "".join(texts).replace(" ", "").replace(zwsp, "") == "".join(spoken.split()).replace(
        zwsp, ""
    )


def words(text: str, at: float = 0.0, step: float = 0.3) -> list[tuple[float, float, str]]:
    pieces = text.split(" ")
    return [
        (at + i * step, at + i * step + step * 0.8, p + ("" if i == len(pieces) - 1 else " "))
        for i, p in enumerate(pieces)
    ]


def test_cues_cut_at_sentences_then_phrases_and_fit_the_line() -> None:
    first = Speech(
        wav=None,
        duration=9.0,
        words=words("Hello Oliver. Your bill for November, with gas and power, is ready today."),
    )
    second = Speech(wav=None, duration=1.0, words=words("Thanks!"))
    cues = caption_cues([first, second], [1.0, 20.0], max_chars=42)
    texts = [text for _, _, text in cues]
    assert texts[0] == "Hello Oliver."
    assert texts[-1] == "Thanks!"
    assert all(len(text) <= 42 for text in texts)
    assert any(text.endswith(",") for text in texts)  # the long sentence was cut at a comma
    assert " ".join(texts[1:-1]) == "Your bill for November, with gas and power, is ready today."
    # On the timeline: the first word of line one at 1.0 s, line two at 20.0 s.
    assert cues[0][0] == pytest.approx(1.0)
    assert cues[-1][0] == pytest.approx(20.0)
    assert all(a < b <= c for (a, b, _), (c, _, _) in itertools.pairwise(cues))


def test_cues_without_spaces_keep_the_text_as_written() -> None:
    speech = Speech(wav=None, duration=3.0, words=words("您好， 陳先生。 帳單"))
    # words() adds a space after each piece; written Chinese has none between these words.
    speech = Speech(
        wav=None,
        duration=3.0,
        words=[(a, b, w.rstrip()) for a, b, w in speech.words],
    )
    assert [text for _, _, text in caption_cues([speech], [0.0])] == ["您好，陳先生。", "帳單"]


def test_silent_speeches_give_no_cues() -> None:
    silent = Speech(wav=None, duration=0.0, words=[])
    assert caption_cues([silent, silent], [0.0, 3.0]) == []
    with pytest.raises(ValueError, match="2 speeches but 1 starts"):
        caption_cues([silent, silent], [0.0])


def test_write_vtt_is_valid_webvtt(tmp_path: Path) -> None:
    path = tmp_path / "captions.vtt"
    cues = [(0.25, 1.5, "Total: 84,20 €"), (3661.0, 3662.0015, "<b>Tom & Jerry</b> --> ok")]
    write_vtt(cues, path)
    parsed = webvtt.read(str(path))
    assert [(c.start, c.end) for c in parsed.captions] == [
        ("00:00:00.250", "00:00:01.500"),
        ("01:01:01.000", "01:01:02.002"),
    ]
    assert parsed.captions[0].text == "Total: 84,20 €"
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; --&gt; ok" in path.read_text(encoding="utf-8")


def test_cues_cut_only_where_a_line_may_break() -> None:
    # eSpeak NG marks Thai syllables mid-word: the pieces stay together up to a space.
    thai = Speech(
        wav=None,
        duration=4.0,
        words=[(0.0, 0.9, "เปิดเครื่"), (0.9, 1.8, "องซักผ้า "), (1.9, 2.5, "ช่วยประหยัด"),
               (2.5, 3.0, "ไฟ")],
    )  # fmt: skip
    assert [t for _, _, t in caption_cues([thai], [0.0], max_chars=12)] == [
        "เปิดเครื่องซักผ้า",
        "ช่วยประหยัดไฟ",
    ]
    # A zero-width space between Thai words is a place to cut, and is not shown at a cue's end.
    zwsp = Speech(
        wav=None,
        duration=2.0,
        words=[(0.0, 0.5, "ชำระง่าย\u200b"), (0.5, 1.0, "ในคลิก"), (1.0, 1.5, "เดียว")],
    )
    assert [t for _, _, t in caption_cues([zwsp], [0.0], max_chars=10)] == [
        "ชำระง่าย",
        "ในคลิกเดียว",
    ]
    # A full stop after a number or before a lower-case word or a digit ends no sentence.
    for line in ("Zahlen Sie bis zum 30. November 2026.", "ภายใน 24 พฤศจิกายน ค.ศ. 2026"):
        speech = Speech(wav=None, duration=5.0, words=words(line))
        assert [t for _, _, t in caption_cues([speech], [0.0])] == [line]
    # CJK takes two columns a character: 22 of them are cut at the ideographic comma.
    zh = "洗衣機和洗碗機裝滿再使用，可節省電力和用水。"
    speech = Speech(
        wav=None, duration=5.0, words=[(i * 0.2, i * 0.2 + 0.15, c) for i, c in enumerate(zh)]
    )
    assert width(zh) == 44
    assert [t for _, _, t in caption_cues([speech], [0.0])] == [
        "洗衣機和洗碗機裝滿再使用，",
        "可節省電力和用水。",
    ]


def test_the_rendered_video_captions_its_voice(tmp_path: Path) -> None:
    """A whole render (Hebrew, right to left): captions.vtt against the speech in video.mp4's
    own AAC track. Without a music bed, so that the voice's pauses can be heard."""
    voice = espeak_or_skip()
    bundle = load_bundle("bill-explainer")
    audio = bundle.spec.audio.model_copy(update={"music": None})
    bundle = dataclasses.replace(bundle, spec=bundle.spec.model_copy(update={"audio": audio}))
    tag, name = LOCALES["he"]
    bill = make_bill(**{"customer.locale": tag, "customer.name": name}, drop=["tips"])
    out = render(bill, bundle, ["video"], tmp_path / "out", voice=voice)
    assert out.video is not None and out.captions is not None
    decoded = tmp_path / "decoded.wav"
    extract = ["-nostdin", "-loglevel", "error", "-i", str(out.video), "-vn", "-ac", "1"]
    subprocess.run([require("ffmpeg"), *extract, str(decoded)], check=True)
    length = float(ffprobe_json(decoded)["format"]["duration"])
    cues = [
        (c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, c.text)
        for c in webvtt.read(str(out.captions)).captions
    ]
    assert len(cues) >= 8 and name in cues[0][2]
    measured = check_cues_against_voice(cues, voice_islands(decoded, length))
    assert measured >= len(cues)
