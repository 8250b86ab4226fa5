"""Cards: every example's text is drawable in its script and stays inside its box."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from PIL import Image, ImageDraw

from renderers.story import facts
from renderers.templates import load_bundle
from renderers.video.cards import draw_card
from renderers.video.fonts import FontTable
from renderers.video.plan import plan_cards
from renderers.video.text import Box, Typesetter, draw_text, fit

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_every_card_text_has_glyphs(name: str) -> None:
    bundle = load_bundle("bill-explainer")
    bill_facts = facts(example(name), bundle.locale)
    narration = bundle.narration.filled(bill_facts.locale, bill_facts.placeholders())
    cards = plan_cards(bundle.spec, bill_facts, narration)
    ts = Typesetter(FontTable.with_overrides({}), bill_facts.locale)
    for card in cards:
        assert ts.uncovered(card.caption()) == set(), (name, card.kind)
        assert draw_card(card, ts, bundle.spec.theme).size == (1280, 720)


def test_scripts_pick_their_fonts() -> None:
    th = Typesetter(FontTable.with_overrides({}), Locale.parse("th_TH"))
    assert [r.script for r in th.runs("ภายใน 24 พฤศจิกายน")] == ["thai", "latin", "thai"]
    zh = Typesetter(FontTable.with_overrides({}), Locale.parse("zh_Hant_TW"))
    assert {r.script for r in zh.runs("陳美玲 $120.00")} == {"cjk-tc"}
    ar = Typesetter(FontTable.with_overrides({}), Locale.parse("ar_EG"))
    assert ar.base_rtl("مرحباً Giulia") and not ar.base_rtl("Giulia مرحباً")


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
