"""Scenes as data: the spec is checked whole (errors name file, line and path), `when`
picks the scenes, and every ending of the story says the right thing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from babel import Locale

from renderers.errors import TemplateError
from renderers.templates import REPO_ROOT, TemplateBundle, load_bundle
from renderers.video.expressions import render_text
from tests.factories import make_bill
from tests.realparts import require
from tests.videokit import plan, settled

NAME = "bill-explainer"


@pytest.fixture(scope="module")
def bundle() -> TemplateBundle:
    return load_bundle(NAME)


def _copy(tmp_path: Path) -> Path:
    for part in ("scenes", "microsite_templates"):
        shutil.copytree(REPO_ROOT / part / NAME, tmp_path / part / NAME)
    return tmp_path / "scenes" / NAME / "scenes.yaml"


def _line(spec: Path, needle: str) -> int:
    lines = spec.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("type: counter", "type: countdown", "scenes[2].layers[3]", "does not match any"),
        ("when: lines | length > 0", "when: lines | length >", "scenes[3].when", "syntax"),
        ("        path: assets/logo.png", "        path: ../../app/x.png",
         "scenes[0].layers[1].path", "no file"),
        ("size: 150", "size: 1500", "scenes[2].layers[3].size", "less than or equal"),
        ("enter: {kind: slide, direction: right", "enter: {kind: spin, direction: right",
         "scenes[5].layers[2].enter.kind", "Input should be"),
    ],
)  # fmt: skip
def test_spec_errors_name_file_line_and_path(
    tmp_path: Path, old: str, new: str, path: str, message: str
) -> None:
    spec = _copy(tmp_path)
    text = spec.read_text(encoding="utf-8")
    assert text.count(old) == 1
    spec.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_bundle(NAME, root=tmp_path)
    error = caught.value
    assert error.file == str(spec) and error.path == path and message in error.message
    assert error.line == _line(spec, new)


def _ending(bill: dict[str, Any], bundle: TemplateBundle, tmp_path: Path) -> tuple[Any, str]:
    planned = plan(bill, bundle, tmp_path)
    ending = next(p for p in planned if p.scene.id == "ending")
    text = "\n".join(ending.ctx.text(layer.text) for layer in ending.layers
                     if layer.type == "text")  # type: ignore[attr-defined]  # fmt: skip
    return ending, text


ENDINGS = {
    "pay": ({}, "Paga con un tocco", True),
    "nudge": ({"bill.status": "overdue", "bill.days_overdue": 5,
               "customer.segment": "forgetful"}, "Un promemoria", True),
    "firm": ({"bill.status": "overdue", "bill.days_overdue": 45}, "rateizzazione", True),
    "thanks": ({"bill.status": "paid"}, "Grazie!", False),
    "credit": ({"bill.total": "-12.50", "bill.lines": None}, "Niente da pagare", False),
}  # fmt: skip


@pytest.mark.parametrize("tone", list(ENDINGS))
def test_every_ending(tone: str, bundle: TemplateBundle, tmp_path: Path) -> None:
    overrides, says, asks = ENDINGS[tone]
    ending, text = _ending(make_bill(**overrides), bundle, tmp_path)
    assert ending.ctx.values["tone"] == tone and says in text
    has_qr = any(layer.type == "qr" for layer in ending.layers)  # type: ignore[attr-defined]
    assert has_qr is asks  # no call to pay when paid or in credit
    # the frame: the title is drawn in the tone's colour; a QR code only when it asks to pay
    frame = settled(ending)
    colours = {c for _, c in frame.getcolors(1 << 20) or ()}
    tone_rgb = tuple(int(ending.ctx.colors["tone"][i : i + 2], 16) for i in (1, 3, 5))
    assert tone_rgb in colours
    white = sum(n for n, c in frame.getcolors(1 << 20) or () if c == (255, 255, 255))
    assert (white > 20_000) is asks  # the QR code's quiet zone and light modules


SPOKEN = {  # locale: (greeting starts, pay ending, thanks ending): each language's punctuation
    "fr-FR": ("Bonjour Giulia Rossi, voici votre facture", "Payez en un geste. Utilisez",
              "Merci ! Nous avons"),
    "ar": ("مرحباً Giulia Rossi، إليك فاتورتك", "ادفع بلمسة واحدة. استخدم", "شكراً لك! لقد"),
    "zh-Hant": ("Giulia Rossi，您好，這是您的帳單", "一鍵繳費。請於", "謝謝您！我們"),  # noqa: RUF001
    "th": ("สวัสดีคุณGiulia Rossi นี่คือใบแจ้งหนี้ของคุณ", "ชำระง่าย\u200bในคลิกเดียว กดปุ่ม",
           "ขอบคุณ! เราได้รับ"),
}  # fmt: skip


def _spoken(bill: dict[str, Any], bundle: TemplateBundle, tmp_path: Path) -> dict[str, str]:
    return {p.scene.id: render_text(p.scene.say, p.ctx.values)
            for p in plan(bill, bundle, tmp_path) if p.scene.say}  # fmt: skip


@pytest.mark.parametrize("locale", list(SPOKEN))
def test_spoken_lines_use_the_locales_punctuation_and_skip_the_bill_number(
    locale: str, bundle: TemplateBundle, tmp_path: Path
) -> None:
    greeting, pay, thanks = SPOKEN[locale]
    said = _spoken(make_bill(**{"customer.locale": locale}), bundle, tmp_path)
    assert said["greeting"] == greeting  # the number is on screen, not read digit by digit
    assert said["ending"].startswith(pay)
    paid = _spoken(make_bill(**{"customer.locale": locale, "bill.status": "paid"}), bundle,
                   tmp_path)  # fmt: skip
    assert paid["ending"].startswith(thanks)
    assert all("F-2026-11-000123" not in line for line in [*said.values(), *paid.values()])


def test_percent_filter_shows_the_sign_of_a_rise() -> None:
    de = Locale.parse("de_DE")
    assert render_text("{{ 0.38 | percent(signed=true) }}", {"locale": de}) == "+38\u00a0%"
    assert render_text("{{ -0.05 | percent(signed=true) }}", {"locale": de}) == "-5\u00a0%"
    assert render_text("{{ 0.38 | percent }}", {"locale": de}) == "38\u00a0%"


def test_the_pay_ending_qr_scans(bundle: TemplateBundle, tmp_path: Path) -> None:
    zbarimg = require("zbarimg")
    ending, _ = _ending(make_bill(), bundle, tmp_path)
    settled(ending).save(tmp_path / "ending.png")
    out = subprocess.run([zbarimg, "-q", "--raw", str(tmp_path / "ending.png")],
                         capture_output=True, text=True, check=True, timeout=30)  # fmt: skip
    assert out.stdout.startswith("BCD\n002\n1\nSCT")


def test_when_skips_scenes_without_data(bundle: TemplateBundle, tmp_path: Path) -> None:
    full = [p.scene.id for p in plan(make_bill(), bundle, tmp_path)]
    assert full == ["intro", "greeting", "total", "breakdown", "consumption", "tip",
                    "ending", "outro"]  # fmt: skip
    bare = make_bill(**{"bill.lines": None}, drop=["bill.consumption", "tips"])
    assert [p.scene.id for p in plan(bare, bundle, tmp_path)] == [
        "intro", "greeting", "total", "tip", "ending", "outro"
    ]  # fmt: skip


def test_a_scene_switched_off_is_never_shown(tmp_path: Path) -> None:
    spec = _copy(tmp_path)
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("  - id: tip\n", "  - id: tip\n    enabled: false\n"), "utf-8")
    bundle = load_bundle(NAME, root=tmp_path)
    assert [s.enabled for s in bundle.spec.scenes if s.id == "tip"] == [False]
    shown = [p.scene.id for p in plan(make_bill(), bundle, tmp_path)]
    assert "tip" not in shown and shown[-2:] == ["ending", "outro"]


def test_shared_scenes_see_no_customer_data(bundle: TemplateBundle, tmp_path: Path) -> None:
    for p in plan(make_bill(), bundle, tmp_path):
        if p.scene.shared:
            assert p.ctx.bill is None and "name" not in p.ctx.values
            assert all("{" not in v for v in p.ctx.values["t"].values())
