"""The form a version's files read as: theme and contrast, assets, strings, scenes."""

from __future__ import annotations

from typing import Any

import pytest

from app.studio.contrast import ratio, verdict
from app.studio.edits import apply_edits
from app.studio.forms import read_form


def test_wcag_contrast_figures() -> None:
    assert ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    # WCAG's own borderline example: #777777 on white is 4.48:1, just under AA.
    assert ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert [verdict(v) for v in (4.5, 4.48, 3.0, 2.9)] == [
        "AA", "AA large only", "AA large only", "fails AA"]  # fmt: skip


def test_the_theme_with_a_verdict_for_each_text_colour(files: dict[str, bytes]) -> None:
    form = read_form(files)
    colors = {c["name"]: c["value"] for c in form["theme"]["colors"]}
    assert colors["accent"] == "#64B5F6" and colors["tones.firm"] == "#FF7961"
    checks = {(c["foreground"], c["background"]): c for c in form["theme"]["contrast"]}
    assert checks[("text", "panel")]["verdict"] == "AA"
    assert ("tones.pay", "background") in checks and ("tones.pay", "panel") not in checks
    dark = apply_edits(files, [{"op": "set_color", "name": "muted", "value": "#2A4050"}])
    dark_checks = {
        (c["foreground"], c["background"]): c for c in read_form(dark)["theme"]["contrast"]
    }
    assert dark_checks[("muted", "background")]["verdict"] == "fails AA"


def test_assets_know_the_logo_and_the_music(files: dict[str, bytes]) -> None:
    assets = {a["path"]: a for a in read_form(files)["assets"]}
    assert assets["scenes/assets/logo.png"]["role"] == "logo"
    assert assets["scenes/assets/logo.png"]["used_by"] == ["intro, layer 1", "outro, layer 1"]
    assert assets["scenes/assets/music.ogg"]["role"] == "music"


def test_scenes_in_order_with_their_conditions(files: dict[str, bytes]) -> None:
    scenes = read_form(files)["scenes"]
    assert [s["id"] for s in scenes] == ["intro", "greeting", "total", "breakdown",
                                         "consumption", "tip", "ending", "outro"]  # fmt: skip
    by_id = {s["id"]: s for s in scenes}
    assert by_id["greeting"]["when"] == {"kind": "always"}
    assert by_id["breakdown"]["when"] == {"kind": "custom", "expression": "lines | length > 0"}
    assert by_id["outro"]["transition"] == {"kind": "fade", "duration": 0.5}
    title = by_id["greeting"]["layers"][2]
    assert (title["type"], title["size"], title["box"]) == ("text", 88, [0.08, 0.22, 0.84, 0.32])
    assert "text" in title["editable"] and "text" not in by_id["greeting"]["layers"][0]["editable"]


def _cell(form: dict[str, Any], catalog: str, key: str, locale: str) -> dict[str, Any]:
    row = next(r for r in form["texts"]["rows"] if (r["catalog"], r["key"]) == (catalog, key))
    cell: dict[str, Any] = row["cells"][locale]
    return cell


def test_strings_by_key_and_locale_none_flagged_as_shipped(files: dict[str, bytes]) -> None:
    texts = read_form(files)["texts"]
    assert texts["locales"][0] == "en" and {"it", "th", "ar", "zh-Hant"} <= set(texts["locales"])
    assert _cell(read_form(files), "video", "greeting.title", "it")["value"] == "Ciao {name}"
    assert _cell(read_form(files), "site", "greeting", "it")["value"] == "Ciao {name}"
    flagged = [(r["key"], loc) for r in texts["rows"] for loc, c in r["cells"].items()
               if c["missing"] or c["too_long"]]  # fmt: skip
    assert flagged == []


def test_missing_and_too_long_translations_are_flagged(files: dict[str, bytes]) -> None:
    it = files["scenes/narration/it.yaml"].decode()
    files["scenes/narration/it.yaml"] = it.replace(
        '  title: "Grazie di essere con noi"\n', ""
    ).encode()
    long_title = "Ciao {name}, " + "che piacere rivederti qui con la tua nuova bolletta " * 8
    form = read_form(apply_edits(files, [
        {"op": "set_string", "catalog": "video", "key": "greeting.title", "locale": "it",
         "value": long_title},
        {"op": "set_string", "catalog": "site", "key": "greeting", "locale": "de",
         "value": "Hallo {name}, " + "schön, dass Sie wieder da sind " * 3},
    ]))  # fmt: skip
    assert _cell(form, "video", "outro.title", "it") == {"value": None, "missing": True,
                                                          "too_long": None}  # fmt: skip
    long = _cell(form, "video", "greeting.title", "it")["too_long"]
    assert long and "greeting" in long and "cut" in long  # measured in its layer's box
    assert "times the English" in _cell(form, "site", "greeting", "de")["too_long"]
    assert _cell(form, "video", "greeting.title", "fr")["too_long"] is None


def test_a_broken_spec_is_a_problem_of_the_form_not_an_error(files: dict[str, bytes]) -> None:
    spec = files["scenes/scenes.yaml"].decode()
    files["scenes/scenes.yaml"] = spec.replace("size: 150", "size: 1500").encode()
    form = read_form(files)
    assert form["scenes"] is None and form["theme"] is None
    assert form["problem"]["field"] == "scenes/scenes.yaml: scenes[2].layers[3].size"
    assert "less than or equal to 300" in form["problem"]["message"]
    assert "scenes/scenes.yaml" in form["files"]
