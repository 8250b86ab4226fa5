"""A valid bill never fails to render (issue 16): bills drawn across locales (the template's
and others, which fall back), currencies of 0, 2 and 3 minor digits, names and labels in
many scripts and with emoji, 1 to 40 lines, short and long narration, every status and
tone, every video format. Each is refused by validation with the problem named, or renders
(narrated by eSpeak NG) to a video whose every planned frame an mp4 reader reads back.
Profiles (how many bills) are in tests/hypothesis_profiles.py."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from app.infra.errors import InvalidInput
from app.intake import bill_document, parse_bill
from renderers import render
from renderers.story import tone
from renderers.templates import TemplateBundle, load_bundle
from renderers.video.formats import FORMAT_NAMES, FPS
from renderers.video.remux import join as real_join
from renderers.voice import voice_by_name
from tests.factories import make_bill
from tests.hypothesis_profiles import examples
from tests.paths import EXAMPLES
from tests.realparts import require

TEMPLATE_LOCALES = ["it-IT", "fr-FR", "en-US", "en-GB", "de-DE", "th-TH", "zh-Hant-TW",
                    "ar-EG", "he-IL"]  # fmt: skip
OTHER_LOCALES = ["ja-JP", "ko-KR", "zh-Hans-CN", "ru-RU", "el-GR", "hi-IN", "pt-BR", "es-MX",
                 "tr-TR", "fa-IR", "sv-SE", "pl-PL", "vi-VN", "uk-UA"]  # fmt: skip
CURRENCIES = {0: ["JPY", "KRW", "ISK"], 2: ["EUR", "USD", "GBP", "BRL"], 3: ["KWD", "BHD", "TND"]}
SCRIPTS = {
    "latin": "abcdefghijklmnopqrstuvwxyzÀÉÎÕÜßçøłğ",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяЖЩ",
    "greek": "αβγδεζηθικλμνξοπρστυφχψωΩΣ",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "hebrew": "אבגדהוזחטיכלמנסעפצקרשת",
    "thai": "กขคงจฉชซญดตถทนบปผพฟภมยรลวศษสหอฮะาำิีึืุู่้",
    "devanagari": "कखगघचछजझटठडढणतथदधनपफबभमयरलवशसहािीुूेैोौं",
    "han": "山田太郎陳美玲電気税金料金請求書東京",
    "kana": "あいうえおかきくけこさしすせそアイウエオカキクケコ",
    "hangul": "김민수이영희전기요금세금",
    "emoji": ["😀", "🎉", "👍🏽", "👨‍👩‍👧‍👦", "🇯🇵", "❤️", "⚡", "🔥", "🏠"],
}
INJECTED = ["{{ 7*7 }}{% raw %}", "line1\n\n00:00:00.000 --> 00:00:09.000\nINJECTED-CUE\n\n",
            "<b>bold</b>&amp; -->", "${jndi:x}", "'; DROP TABLE bills; --"]  # fmt: skip


@st.composite
def words(draw: st.DrawFn, max_words: int = 6, max_letters: int = 12) -> str:
    """Words, each in one script (a name may mix scripts, as people's do)."""
    out = []
    for _ in range(draw(st.integers(1, max_words))):
        letters = SCRIPTS[draw(st.sampled_from(sorted(SCRIPTS)))]
        out.append("".join(draw(st.lists(st.sampled_from(list(letters)), min_size=1,
                                          max_size=max_letters))))  # fmt: skip
    return " ".join(out)


def text(max_chars: int, one_line: bool = True) -> st.SearchStrategy[str]:
    """Short or long text: words of many scripts, sometimes a whole page of them, sometimes
    strings that look like markup, templates or caption cues (on one line for a field that
    takes one)."""
    long = st.builds(lambda w, n: " ".join([w] * n), words(), st.integers(5, 60))
    odd = [s.replace("\n", " ") if one_line else s for s in INJECTED]
    return st.one_of(words(), long, st.sampled_from(odd)).map(lambda s: s[:max_chars])


def _money(minor: int, digits: int) -> str:
    return str(Decimal(minor).scaleb(-digits))


@st.composite
def bills(draw: st.DrawFn) -> dict[str, Any]:
    digits = draw(st.sampled_from(sorted(CURRENCIES)))
    currency = draw(st.sampled_from(CURRENCIES[digits]))
    amounts = draw(st.lists(st.integers(-50_000, 5_000_000), min_size=1, max_size=40))
    if draw(st.integers(0, 4)) == 0:  # in credit (unless paid)
        amounts = [-a for a in amounts]
    status = draw(st.sampled_from(["open", "overdue", "paid"]))
    locale = draw(st.sampled_from(TEMPLATE_LOCALES + OTHER_LOCALES))
    categories = st.sampled_from(["energy", "network", "charges", "taxes"])
    lines = [{"label": draw(text(120)), "category": draw(categories), "amount": _money(a, digits)}
             for a in amounts]  # fmt: skip
    tip = st.fixed_dictionaries({"title": text(120), "body": text(1000, one_line=False)})
    tips = draw(st.lists(tip, max_size=2))
    overrides: dict[str, Any] = {
        "customer.locale": locale,
        # now and then a name with line breaks, which validation refuses
        "customer.name": draw(st.one_of(words(), text(200), text(200, one_line=False))),
        "customer.segment": draw(st.sampled_from(["punctual", "forgetful", "chronic"])),
        "bill.currency": currency,
        "bill.status": status,
        "bill.total": _money(sum(amounts), digits),
        "bill.lines": lines,
    }
    drop = ["payment.sepa"] if currency != "EUR" else []
    if status == "overdue":
        overrides["bill.days_overdue"] = draw(st.integers(0, 400))
    if draw(st.booleans()):
        drop.append("bill.consumption")
    if tips:
        overrides["tips"] = tips
    else:
        drop.append("tips")
    return make_bill(drop=drop, **overrides)


def _issue_16(locale: str, name: str) -> dict[str, Any]:
    bill: dict[str, Any] = json.loads((EXAMPLES / "it_overdue.json").read_text("utf-8"))
    bill["customer"].update(locale=locale, name=name)
    bill["tips"] = [{"title": INJECTED[0], "body": INJECTED[1] + INJECTED[2]}]
    return bill


def _pictures(path: Path, *options: str) -> tuple[int, float]:
    """Pictures the system's ffprobe reads (by default as players built on FFmpeg do, with
    the edit list applied in full), and where the last one shown ends, in seconds."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", *options, "-select_streams", "v", "-show_entries",
         "packet=pts_time,duration_time", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    packets = json.loads(out)["packets"]
    ends = [float(p["pts_time"]) + float(p["duration_time"]) for p in packets]
    return len(packets), max(ends)


@pytest.fixture(scope="module")
def bundle() -> TemplateBundle:
    require("ffmpeg")
    require("ffprobe")
    return load_bundle("bill-explainer")


# One test, however many renders the profile runs; a busy machine took 35 s a render.
@pytest.mark.timeout(120 + 60 * examples(1))
@settings(max_examples=examples(1))
@given(raw=bills(), video_format=st.sampled_from(FORMAT_NAMES))
@example(raw=_issue_16("en-US", "A" * 200), video_format="16:9")
def test_a_valid_bill_renders_to_its_last_frame(
    raw: dict[str, Any],
    video_format: str,
    bundle: TemplateBundle,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    try:
        bill = bill_document(parse_bill(raw))
    except InvalidInput as exc:  # refused: every problem says where and what
        assert exc.errors and all(e.pointer.startswith("/") and e.detail for e in exc.errors)
        event("refused by validation")
        return
    event(f"tone {tone(bill)}")
    planned: list[int] = []

    def join(segments: Sequence[tuple[Path, int]], audio: Path, out: Path) -> Path:
        planned.append(sum(frames for _, frames in segments))
        return real_join(segments, audio, out)

    workdir = tmp_path_factory.mktemp("bill")
    with pytest.MonkeyPatch.context() as patch:  # the frames the render planned
        patch.setattr("renderers.video.join", join)
        outputs = render(bill, bundle, ["video"], workdir, voice=voice_by_name("espeak"),
                         video_format=video_format)  # fmt: skip
    assert outputs.video is not None and len(planned) == 1
    read, end = _pictures(outputs.video)
    held, _ = _pictures(outputs.video, "-advanced_editlist", "0")  # every picture it holds
    assert read == held, f"a player reads {read} of the video's {held} pictures"
    assert abs(end - planned[0] / FPS) < 0.001, f"the video ends at {end} s"
