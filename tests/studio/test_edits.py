"""Edits written back into the files: only what they change changes, the renderer still
loads the result, and a bad edit names its field."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.studio.edits import apply_edits, changes
from app.studio.errors import EditRefused
from tests.studio.conftest import load_files
from tests.studio.test_files import changed_lines


def diff(files: dict[str, bytes], new: dict[str, bytes], path: str) -> list[str]:
    return changed_lines(files[path].decode(), new[path].decode())


def test_each_edit_changes_its_lines_only_and_the_bundle_loads(
    files: dict[str, bytes], tmp_path: Path
) -> None:
    before = dict(files)
    new = apply_edits(files, [
        {"op": "set_color", "name": "accent", "value": "#ff0000"},
        {"op": "set_color", "name": "tones.firm", "value": "#B00020"},
        {"op": "set_string", "catalog": "video", "key": "greeting.title", "locale": "it",
         "value": "Buongiorno {name}"},
        {"op": "set_string", "catalog": "site", "key": "greeting", "locale": "it",
         "value": "Buongiorno {name}"},
        {"op": "set_scene", "scene": "tip", "field": "enabled", "value": False},
        {"op": "set_scene", "scene": "ending", "field": "duration", "value": 6},
        {"op": "set_scene", "scene": "intro", "field": "transition",
         "value": {"kind": "cut", "duration": 0.2}},
        {"op": "set_scene", "scene": "greeting", "field": "when",
         "value": {"kind": "rules", "tone": ["pay", "nudge"], "days_overdue": {"max": 30}}},
        {"op": "set_layer", "scene": "greeting", "layer": 2, "field": "size", "value": 72},
        {"op": "set_layer", "scene": "greeting", "layer": 2, "field": "color", "value": "accent"},
        {"op": "set_layer", "scene": "greeting", "layer": 3, "field": "box",
         "value": [0.1, 0.6, 0.8, 0.2], "format": "1:1"},
    ])  # fmt: skip
    assert set(changes(files, new)) == {
        "scenes/scenes.yaml", "scenes/narration/it.yaml", "microsite/messages/it.po"}  # fmt: skip
    assert diff(files, new, "scenes/narration/it.yaml") == [
        '-  title: "Ciao {name}"', '+  title: "Buongiorno {name}"']  # fmt: skip
    assert diff(files, new, "microsite/messages/it.po") == [
        '-msgstr "Ciao {name}"', '+msgstr "Buongiorno {name}"']  # fmt: skip
    assert diff(files, new, "scenes/scenes.yaml") == [
        '-  accent: "#64B5F6"', '+  accent: "#FF0000"',
        '-    firm: "#FF7961"', '+    firm: "#B00020"',
        "+    transition: {kind: cut, duration: 0.2}",
        "+    when: tone in ['pay', 'nudge'] and days_overdue <= 30",
        "-        size: 88", "+        size: 72",
        "+        color: accent",
        "+        boxes: {\"1:1\": [0.1, 0.6, 0.8, 0.2]}",
        "+    enabled: false",
        "-    duration: 5", "+    duration: 6",
    ]  # fmt: skip
    bundle = load_files(new, tmp_path)
    scenes = {s.id: s for s in bundle.spec.scenes}
    assert bundle.spec.theme.accent == "#FF0000" and not scenes["tip"].enabled
    assert scenes["greeting"].when == "tone in ['pay', 'nudge'] and days_overdue <= 30"
    assert bundle.narration.by_locale["it"]["greeting.title"] == "Buongiorno {name}"
    assert bundle.messages.by_locale["it"]["greeting"] == "Buongiorno {name}"
    assert files == before  # the input is left as it was


def test_switching_back_on_and_always_leave_the_file_as_it_was(files: dict[str, bytes]) -> None:
    off = apply_edits(files, [
        {"op": "set_scene", "scene": "tip", "field": "enabled", "value": False},
        {"op": "set_scene", "scene": "tip", "field": "when",
         "value": {"kind": "rules", "status": ["overdue"]}},
    ])  # fmt: skip
    on = apply_edits(off, [
        {"op": "set_scene", "scene": "tip", "field": "enabled", "value": True},
        {"op": "set_scene", "scene": "tip", "field": "when", "value": {"kind": "always"}},
    ])  # fmt: skip
    assert on == files


def test_moving_a_scene_takes_its_comments_along(files: dict[str, bytes], tmp_path: Path) -> None:
    moved = apply_edits(files, [{"op": "move_scene", "scene": "ending", "to": 1}])
    text = moved["scenes/scenes.yaml"].decode()
    comment = "  # The ending: one of five, by tone."
    assert text.index(comment) < text.index("  - id: ending") < text.index("  - id: greeting")
    ids = [s.id for s in load_files(moved, tmp_path).spec.scenes]
    assert ids == ["intro", "ending", "greeting", "total", "breakdown", "consumption", "tip",
                   "outro"]  # fmt: skip
    back = apply_edits(moved, [{"op": "move_scene", "scene": "ending", "to": 6}])
    assert back == files


def _png(color: str) -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 32), color).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def test_a_new_logo_replaces_the_old_one_in_every_layer(
    files: dict[str, bytes], tmp_path: Path
) -> None:
    upload = {"op": "upload_asset", "role": "logo", "path": "scenes/assets/brand.png"}
    new = apply_edits(files, [{**upload, "data": _png("red")}])
    assert "scenes/assets/logo.png" not in new and "scenes/assets/brand.png" in new
    bundle = load_files(new, tmp_path)
    paths = [getattr(layer, "path", None) for s in bundle.spec.scenes for layer in s.layers]
    assert paths.count("assets/brand.png") == 2 and "assets/logo.png" not in paths


def test_the_code_view_replaces_a_whole_file(files: dict[str, bytes]) -> None:
    new = apply_edits(files, [
        {"op": "set_file", "path": "microsite/style.css", "text": "body { color: red }\n"},
        {"op": "set_file", "path": "scenes/assets/music.txt", "text": None},
    ])  # fmt: skip
    assert changes(files, new) == {"microsite/style.css": b"body { color: red }\n",
                                   "scenes/assets/music.txt": None}  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        ({"op": "paint"}, "edits[0].op", "one of"),
        ({"op": "set_color", "name": "accent", "value": "red"}, "theme.accent", "#RRGGBB"),
        ({"op": "set_color", "name": "sky", "value": "#000000"}, "theme.sky", "not a theme"),
        ({"op": "set_string", "catalog": "video", "key": "greeting.title", "locale": "it",
          "value": "Ciao {customer.id}"}, "texts.video.greeting.title.it", "unknown placeholder"),
        ({"op": "set_string", "catalog": "video", "key": "nope", "locale": "it", "value": "x"},
         "texts.video.nope.it", "no such string"),
        ({"op": "set_string", "catalog": "site", "key": "greeting", "locale": "xx", "value": "x"},
         "texts.site.greeting.xx", "no catalog"),
        ({"op": "set_scene", "scene": "tip", "field": "duration", "value": 40},
         "scenes.tip.duration", "less than or equal to 20"),
        ({"op": "set_scene", "scene": "nope", "field": "duration", "value": 4},
         "edits[0].scene", "no scene"),
        ({"op": "set_scene", "scene": "tip", "field": "transition", "value": {"kind": "wipe"}},
         "scenes.tip.transition", "'fade' or 'cut'"),
        ({"op": "set_layer", "scene": "greeting", "layer": 2, "field": "size", "value": 900},
         "scenes.greeting.layers.2.size", "less than or equal to 300"),
        ({"op": "set_layer", "scene": "greeting", "layer": 0, "field": "size", "value": 20},
         "scenes.greeting.layers.0.size", "background layer has no size"),
        ({"op": "set_layer", "scene": "greeting", "layer": 2, "field": "box",
          "value": [0.1, 0.2, 1.5, 0.3]}, "scenes.greeting.layers.2.box", "less than or equal"),
        ({"op": "set_layer", "scene": "greeting", "layer": 2, "field": "color",
          "value": "gold"}, "scenes.greeting.layers.2.color", "pattern"),
        ({"op": "move_scene", "scene": "tip", "to": 99}, "scenes", "position"),
        ({"op": "upload_asset", "path": "scenes/../x.png", "data": ""}, "assets.scenes/../x.png",
         "scenes/assets/"),
        ({"op": "upload_asset", "path": "scenes/assets/a.svg", "role": "logo", "data": ""},
         "assets.logo", ".png"),
    ],
)  # fmt: skip
def test_a_bad_edit_names_its_field(
    files: dict[str, bytes], edit: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(EditRefused) as caught:
        apply_edits(files, [edit])
    assert caught.value.field == field
    assert message in caught.value.message
