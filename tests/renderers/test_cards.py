"""Every locale's text is drawable in its script (no missing glyphs) and stays in its box."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from PIL import Image, ImageDraw

from renderers.templates import load_bundle
from renderers.video import scene_caption as _caption
from renderers.video.fonts import FontTable
from renderers.video.layers import kind_of
from renderers.video.text import Box, Typesetter, draw_text, fit
from tests.factories import LOCALES, make_bill
from tests.paths import EXAMPLES
from tests.videokit import plan, settled


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def test_every_narration_locale_is_tested() -> None:
    assert set(load_bundle("bill-explainer").narration.locales) == set(LOCALES)


@pytest.mark.parametrize("lang", list(LOCALES))
def test_every_locale_renders_with_all_its_glyphs(lang: str, tmp_path: Path) -> None:
    tag, name = LOCALES[lang]
    bundle = load_bundle("bill-explainer")
    bill = make_bill(**{"customer.locale": tag, "customer.name": name}, drop=["tips"])
    planned = plan(bill, bundle, tmp_path)
    ts = planned[0].ctx.typesetter
    for p in planned:
        caption = _caption(p)
        assert caption and ts.uncovered(caption) == set(), (lang, p.scene.id)
    for p in planned:
        if p.scene.id in {"greeting", "ending"}:
            frame = settled(p)
            assert frame.size == (1280, 720) and frame.getbbox() is not None
    if lang in {"ar", "he"}:  # right to left: start-aligned text sits at the right of its box
        ending = next(p for p in planned if p.scene.id == "ending")
        title = next(layer for layer in ending.layers if layer.type == "text")  # type: ignore[attr-defined]
        x, _, w, h = title.box_for(ending.ctx.fmt, rtl=True)
        sprite = kind_of(title).draw(title, ending.ctx, (w, h), 1.0)
        left, _, right, _ = sprite.getbbox() or (0, 0, 0, 0)
        assert right > w - 10 and left > 0
        # and the layout is mirrored: the QR code is left of the title, in the left half
        qr = next(layer for layer in ending.layers if layer.type == "qr")  # type: ignore[attr-defined]
        qx, qy, qw, qh = qr.box_for(ending.ctx.fmt, rtl=True)
        assert qx + qw < x and qx + qw < ending.ctx.fmt.width // 2
        code = settled(ending).crop((qx, qy, qx + qw, qy + qh)).convert("L")
        assert sum(1 for v in code.getdata() if v > 250) > qw * qw // 5  # type: ignore[attr-defined]


def test_scripts_pick_their_fonts() -> None:
    th = Typesetter(FontTable.with_overrides({}), Locale.parse("th_TH"))
    assert [r.script for r in th.runs("ภายใน 24 พฤศจิกายน")] == ["thai", "latin", "thai"]
    zh = Typesetter(FontTable.with_overrides({}), Locale.parse("zh_Hant_TW"))
    assert {r.script for r in zh.runs("陳美玲 $120.00")} == {"cjk-tc"}
    ar = Typesetter(FontTable.with_overrides({}), Locale.parse("ar_EG"))
    assert ar.base_rtl("مرحباً Giulia") and not ar.base_rtl("Giulia مرحباً")


@pytest.mark.parametrize(
    ("locale", "text", "visual"),
    [
        # pieces left to right: punctuation and numbers sit where a reader expects them
        ("he_IL", "החשבון שלך, בהסבר פשוט", ["בהסבר פשוט", ", ", "החשבון שלך"]),
        ("he_IL", "נא לשלם עד 30 בנובמבר", ["בנובמבר", " ", "30", "נא לשלם עד "]),
        ("ar_EG", "إليك فاتورتك F-2026-11", ["F-2026-11", "إليك فاتورتك "]),
        ("en_US", "Hello Giulia (38%)", ["Hello Giulia (38%)"]),
    ],
)
def test_bidi_orders_mixed_lines(locale: str, text: str, visual: list[str]) -> None:
    ts = Typesetter(FontTable.with_overrides({}), Locale.parse(locale))
    pieces = ts.pieces(text)
    assert [p.text for p in pieces] == visual
    for piece in pieces:  # each piece keeps logical order and is shaped in its direction
        strong = [unicodedata.bidirectional(c) for c in piece.text if c.isalnum()]
        if strong:
            assert piece.rtl == (strong[0] in {"R", "AL"})


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("it_IT", "Trasporto e gestione del contatore " * 12),
        ("th_TH", "ค่าไฟฟ้าภาษีมูลค่าเพิ่มค่าบริการรายเดือน" * 6),
        ("zh_Hant_TW", "上期溢繳退款將自您的下期帳單中扣抵" * 8),
        ("en_US", "Supercalifragilisticexpialidocious" * 5),
    ],
)
def test_text_never_leaves_its_box(locale: str, text: str) -> None:
    ts = Typesetter(FontTable.with_overrides({}), Locale.parse(locale))
    box = Box(100, 100, 500, 120)
    fitted = fit(ts, text, box, size=80, min_size=20, bold=True, max_lines=2)
    assert len(fitted.lines) <= 2 and fitted.size >= 20
    assert len(fitted.lines) * fitted.line_height <= box.h
    assert all(ts.width(line, fitted.size, True) <= box.w for line in fitted.lines)
    image = Image.new("RGB", (700, 400), "black")
    draw_text(ImageDraw.Draw(image), ts, fitted, box, fill="white", bold=True)
    left, top, right, bottom = image.getbbox() or (0, 0, 0, 0)
    assert left >= box.x and right <= box.x + box.w and top >= box.y - 10
    assert bottom <= box.y + box.h + 10  # glyph overshoot allowance


def test_short_text_keeps_its_size() -> None:
    ts = Typesetter(FontTable.with_overrides({}), Locale.parse("en_US"))
    fitted = fit(ts, "Hello", Box(0, 0, 1000, 200), size=80, min_size=20)
    assert fitted.size == 80 and fitted.lines == ("Hello",)


def test_thai_lines_break_at_zero_width_spaces() -> None:
    ts = Typesetter(FontTable.with_overrides({}), Locale.parse("th_TH"))
    text = "เครดิตของคุณ\u200bจะถูกใช้\u200bในใบแจ้งหนี้\u200bฉบับถัดไป"
    fitted = fit(ts, text, Box(0, 0, 420, 300), size=40, min_size=40, max_lines=4)
    assert fitted.size == 40 and len(fitted.lines) > 1  # wrapped, not shrunk
    assert "".join(fitted.lines) == text.replace("\u200b", "")
    assert ts.uncovered(text) == set()
