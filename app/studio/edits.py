"""Edits from the form, written back into a version's files.

An edit is a small JSON object with an `op`:

- `set_color`: `name` (`accent`, `tones.pay`, ...), `value` `#RRGGBB`; the theme.
- `set_string`: `catalog` (`video`, `site`), `key`, `locale`, `value`; narration/LOCALE.yaml
  or messages/LOCALE.po (an empty value leaves a locale untranslated).
- `move_scene`: `scene`, `to` (0-based position).
- `set_scene`: `scene`, `field` (`enabled`, `duration`, `transition`, `when`), `value`.
- `set_layer`: `scene`, `layer` (its index), `field`, `value`; `format` for a box of one format.
- `upload_asset`: `path` (`scenes/assets/NAME`), `data` (base64), `role` (`logo`, `music`:
  the layers or the audio that used the old one use the new one).
- `set_file`: `path`, `text` (or `data` in base64; `text: null` deletes): the code view.

`apply_edits(files, edits)` returns new files (the input is left as it was); the first edit
that cannot be made raises `EditRefused` naming its field. Every edited scene is checked
against the spec's model on the spot, so a bad duration is refused as `scenes.tip.duration`,
not found later by a render. A whole-file edit is checked when the version is validated.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from app.studio import bundle, conditions, potext, reorder, yamltext
from app.studio.bundle import Files
from app.studio.errors import EditRefused
from app.studio.texts import check_placeholders
from renderers.video.formats import FORMAT_NAMES
from renderers.video.layers import LayerBase
from renderers.video.spec import Scene, Theme

HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
THEME_NAMES = ("background", "panel", "text", "muted", "accent")
TONE_NAMES = tuple(f"tones.{name}" for name in ("pay", "nudge", "firm", "thanks", "credit"))
SCENE_FIELDS = ("enabled", "duration", "transition", "when")
LAYER_FIELDS = ("text", "size", "min_size", "max_lines", "color", "bold", "align", "valign",
                "box", "at")  # fmt: skip
ASSET_SUFFIXES = {"logo": (".png", ".jpg", ".jpeg", ".webp"),
                  "music": (".ogg", ".oga", ".mp3", ".wav", ".m4a", ".flac")}  # fmt: skip
MAX_STRING_CHARS = 2000
BOX_DIGITS = 4


class Workspace:
    """Files being edited: YAML documents parsed once and written back once, at the end."""

    def __init__(self, files: Files):
        self.files: dict[str, bytes] = dict(files)
        self._docs: dict[str, Any] = {}

    def doc(self, path: str) -> Any:
        if path not in self._docs:
            self._docs[path] = yamltext.load(bundle.text(self.files, path), path)
        return self._docs[path]

    def text(self, path: str) -> str:
        self.flush(path)
        return bundle.text(self.files, path)

    def put_text(self, path: str, text: str) -> None:
        self._docs.pop(path, None)
        self.files[path] = text.encode("utf-8")

    def flush(self, path: str | None = None) -> None:
        for name in [path] if path is not None else list(self._docs):
            if name in self._docs:
                self.files[name] = yamltext.dump(self._docs.pop(name)).encode("utf-8")


def _need(edit: Mapping[str, Any], name: str, where: str, kind: type | tuple[type, ...]) -> Any:
    value = edit.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
        raise EditRefused(f"{where}.{name}", "missing or of the wrong type")
    return value


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _pydantic_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return str(first["msg"])


# --- theme ---------------------------------------------------------------------------------


def _set_color(ws: Workspace, edit: Mapping[str, Any], where: str) -> None:
    name = _need(edit, "name", where, str)
    value = _need(edit, "value", where, str)
    field = f"theme.{name}"
    if name not in THEME_NAMES + TONE_NAMES:
        raise EditRefused(
            field, f"not a theme colour; one of {', '.join(THEME_NAMES + TONE_NAMES)}"
        )
    if not HEX.match(value):
        raise EditRefused(field, "a colour as #RRGGBB")
    spec = ws.doc(bundle.SPEC)
    theme = spec.setdefault("theme", CommentedMap())
    parts = name.split(".")
    target = theme
    for part in parts[:-1]:
        target = target.setdefault(part, CommentedMap())
    target[parts[-1]] = yamltext.like(target.get(parts[-1]), value.upper())
    try:
        Theme.model_validate(theme)
    except ValidationError as exc:
        raise EditRefused(field, _pydantic_message(exc)) from exc


# --- strings -------------------------------------------------------------------------------


def _set_narration(ws: Workspace, key: str, locale: str, value: str, field: str) -> None:
    path = bundle.narration_files(ws.files).get(locale)
    if path is None:
        raise EditRefused(field, f"the video has no strings for {locale!r}")
    doc = ws.doc(path)
    parts = key.split(".")
    fallback_path = bundle.narration_files(ws.files)[bundle.FALLBACK]
    fallback = (
        ws.doc(fallback_path)
        if fallback_path == path
        else yamltext.read(ws.text(fallback_path), fallback_path)
    )
    probe: Any = fallback
    for part in parts:
        probe = probe.get(part) if isinstance(probe, Mapping) else None
    if not isinstance(probe, str):
        raise EditRefused(field, f"no such string in {bundle.FALLBACK}.yaml")
    target = doc
    for part in parts[:-1]:
        if not isinstance(target.get(part), Mapping):
            target[part] = CommentedMap()
        target = target[part]
    if value == "" and locale != bundle.FALLBACK:
        target.pop(parts[-1], None)  # untranslated: the render falls back to English
        return
    if value == "":
        raise EditRefused(field, "the English text is the fallback of every locale: not empty")
    target[parts[-1]] = yamltext.like(target.get(parts[-1]), value)


def _set_message(ws: Workspace, key: str, locale: str, value: str, field: str) -> None:
    path = bundle.message_files(ws.files).get(locale)
    if path is None:
        raise EditRefused(field, f"the microsite has no catalog for {locale!r}")
    pot = potext.messages(potext.read(ws.text(bundle.POT), bundle.POT))
    if key not in pot:
        raise EditRefused(field, "no such message in messages.pot")
    ws.put_text(path, potext.set_translation(ws.text(path), path, key, value, pot[key]))


def _set_string(ws: Workspace, edit: Mapping[str, Any], where: str) -> None:
    catalog = _need(edit, "catalog", where, str)
    key = _need(edit, "key", where, str)
    locale = _need(edit, "locale", where, str)
    value = _need(edit, "value", where, str)
    field = f"texts.{catalog}.{key}.{locale}"
    if len(value) > MAX_STRING_CHARS:
        raise EditRefused(field, f"at most {MAX_STRING_CHARS} characters")
    if any(c in value for c in "\r\x00"):
        raise EditRefused(field, "no control characters")
    check_placeholders(value, field)
    if catalog == "video":
        _set_narration(ws, key, locale, value, field)
    elif catalog == "site":
        _set_message(ws, key, locale, value, field)
    else:
        raise EditRefused(f"{where}.catalog", "video or site")


# --- scenes and layers ---------------------------------------------------------------------


def _scene_index(ws: Workspace, scene_id: str, where: str) -> int:
    scenes = ws.doc(bundle.SPEC).get("scenes")
    if isinstance(scenes, list):
        for i, scene in enumerate(scenes):
            if isinstance(scene, Mapping) and scene.get("id") == scene_id:
                return i
    raise EditRefused(f"{where}.scene", f"no scene {scene_id!r}")


def _check_scene(scene: Any, field: str) -> None:
    try:
        Scene.model_validate(scene)
    except ValidationError as exc:
        raise EditRefused(field, _pydantic_message(exc)) from exc


# Where a key the file lacks is written: after the keys that come before it in this order (a
# key appended at the end of a scene would land after its blank line, under the next one).
SCENE_ORDER = ("id", "enabled", "when", "shared", "duration", "poster", "transition", "say",
               "layers")  # fmt: skip
LAYER_ORDER = ("type", "when", "text", "path", "value", "box", "boxes", "size", "min_size",
               "max_lines", "color", "bold", "align", "valign", "at", "enter", "exit")  # fmt: skip


def _put(mapping: CommentedMap, key: str, value: Any, order: tuple[str, ...]) -> None:
    """Set `key`, placing a new one after the last present key that precedes it in `order`."""
    if key in mapping:
        mapping[key] = value
        return
    keys = list(mapping)
    before = order[: order.index(key)] if key in order else order
    at = max((keys.index(k) + 1 for k in before if k in keys), default=0)
    mapping.insert(at, key, value)


def _flow(values: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def _number(value: Any, field: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EditRefused(field, "a number")
    return value


def _move_scene(ws: Workspace, edit: Mapping[str, Any], where: str) -> None:
    scene_id = _need(edit, "scene", where, str)
    to = _need(edit, "to", where, int)
    index = _scene_index(ws, scene_id, where)
    ws.put_text(bundle.SPEC, reorder.move_item(ws.text(bundle.SPEC), index, to))


def _set_scene(ws: Workspace, edit: Mapping[str, Any], where: str) -> None:
    scene_id = _need(edit, "scene", where, str)
    name = _need(edit, "field", where, str)
    field = f"scenes.{scene_id}.{name}"
    if name not in SCENE_FIELDS:
        raise EditRefused(field, f"not a field the form edits; one of {', '.join(SCENE_FIELDS)}")
    scene = ws.doc(bundle.SPEC)["scenes"][_scene_index(ws, scene_id, where)]
    value = edit.get("value")
    if name == "enabled":
        if not isinstance(value, bool):
            raise EditRefused(field, "true or false")
        if value:
            scene.pop("enabled", None)  # on is the default: the file says nothing
        else:
            _put(scene, "enabled", False, SCENE_ORDER)
    elif name == "duration":
        _put(scene, "duration", _number(value, field), SCENE_ORDER)
    elif name == "transition":
        if not isinstance(value, Mapping):
            raise EditRefused(field, "an object with kind and duration")
        old = scene.get("transition")
        transition = old if isinstance(old, CommentedMap) else CommentedMap()
        if not isinstance(old, CommentedMap):
            transition.fa.set_flow_style()
        for key in ("kind", "duration"):
            if key in value:
                transition[key] = value[key]
        _put(scene, "transition", transition, SCENE_ORDER)
    else:  # when
        expression = conditions.compile_condition(conditions.from_json(value, field))
        if expression == "true":
            scene.pop("when", None)
        else:
            _put(scene, "when", expression, SCENE_ORDER)
    _check_scene(scene, field)


def _set_layer(ws: Workspace, edit: Mapping[str, Any], where: str) -> None:
    scene_id = _need(edit, "scene", where, str)
    index = _need(edit, "layer", where, int)
    name = _need(edit, "field", where, str)
    field = f"scenes.{scene_id}.layers.{index}.{name}"
    if name not in LAYER_FIELDS:
        raise EditRefused(field, f"not a field the form edits; one of {', '.join(LAYER_FIELDS)}")
    scene = ws.doc(bundle.SPEC)["scenes"][_scene_index(ws, scene_id, where)]
    layers = scene.get("layers")
    if not isinstance(layers, list) or not 0 <= index < len(layers):
        raise EditRefused(f"{where}.layer", "no such layer")
    layer = layers[index]
    if name not in _fields_of(layer):
        raise EditRefused(field, f"a {layer.get('type')} layer has no {name}")
    value = edit.get("value")
    if name == "box":
        fmt = edit.get("format")
        if not (isinstance(value, list) and len(value) == 4):
            raise EditRefused(field, "[x, y, width, height] as fractions of the frame")
        numbers = [round(float(_number(v, field)), BOX_DIGITS) for v in value]
        if fmt is None:
            _replace_seq(layer, "box", numbers, LAYER_ORDER)
        elif fmt in FORMAT_NAMES:
            boxes = layer.get("boxes")
            if not isinstance(boxes, CommentedMap):
                boxes = CommentedMap()
                boxes.fa.set_flow_style()
                _put(layer, "boxes", boxes, LAYER_ORDER)
            _replace_seq(boxes, yamltext.like(None, fmt), numbers, ())
        else:
            raise EditRefused(f"{where}.format", f"one of {', '.join(FORMAT_NAMES)}")
    elif name in ("text", "color", "align", "valign"):
        if not isinstance(value, str):
            raise EditRefused(field, "a string")
        if name == "text":
            text: Any = yamltext.like(layer.get(name), value)
        else:
            text = yamltext.like(None, value.upper()) if value.startswith("#") else value
        _put(layer, name, text, LAYER_ORDER)
    elif name == "bold":
        if not isinstance(value, bool):
            raise EditRefused(field, "true or false")
        _put(layer, name, value, LAYER_ORDER)
    else:
        _put(layer, name, _number(value, field), LAYER_ORDER)
    _check_scene(scene, field)


def _replace_seq(
    mapping: CommentedMap, key: str, values: list[Any], order: tuple[str, ...]
) -> None:
    old = mapping.get(key)
    if isinstance(old, CommentedSeq):
        old[:] = values
    else:
        _put(mapping, key, _flow(values), order)


def _fields_of(layer: Any) -> set[str]:
    from renderers.video.layers import REGISTRY

    kind = REGISTRY.get(str(layer.get("type"))) if isinstance(layer, Mapping) else None
    if kind is None:
        return set()
    return set(kind.model.model_fields) | set(LayerBase.model_fields)


# --- files ---------------------------------------------------------------------------------


def _data(edit: Mapping[str, Any], where: str) -> bytes:
    raw = _need(edit, "data", where, str)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EditRefused(f"{where}.data", "not base64") from exc


def _upload_asset(ws: Workspace, edit: Mapping[str, Any], where: str) -> None:
    path = _need(edit, "path", where, str)
    role = edit.get("role")
    field = f"assets.{role or path}"
    pure = PurePosixPath(path)
    if str(pure.parent) != bundle.ASSETS or pure.name.startswith("."):
        raise EditRefused(field, f"an asset lives in {bundle.ASSETS}/")
    data = _data(edit, where)
    if role is not None and role not in ASSET_SUFFIXES:
        raise EditRefused(f"{where}.role", "logo or music")
    if role is not None and pure.suffix.lower() not in ASSET_SUFFIXES[role]:
        raise EditRefused(field, f"a {role} is one of {', '.join(ASSET_SUFFIXES[role])}")
    ws.files[path] = data
    relative = str(pure.relative_to("scenes"))
    spec = ws.doc(bundle.SPEC)
    old: str | None = None
    if role == "logo":
        layers = [layer for scene in spec.get("scenes", []) for layer in scene.get("layers", [])]
        pictures = [p for p in layers if isinstance(p, CommentedMap) and p.get("type") == "image"]
        old = str(pictures[0]["path"]) if pictures else None
        for layer in pictures:
            if layer.get("path") == old:
                layer["path"] = relative
    elif role == "music":
        audio = spec.setdefault("audio", CommentedMap())
        old = str(audio["music"]) if audio.get("music") else None
        audio["music"] = relative
    if old is not None and old != relative and f"scenes/{old}" in ws.files:
        ws.flush(bundle.SPEC)
        if old not in ws.text(bundle.SPEC):  # nothing else uses the file it replaced
            del ws.files[f"scenes/{old}"]


def _set_file(ws: Workspace, edit: Mapping[str, Any], where: str) -> None:
    path = _need(edit, "path", where, str)
    if path.split("/", 1)[0] not in ("scenes", "microsite") or "/" not in path:
        raise EditRefused(f"{where}.path", "a file under scenes/ or microsite/")
    if "text" in edit:
        text = edit["text"]
        if text is None:
            ws._docs.pop(path, None)
            ws.files.pop(path, None)
            return
        if not isinstance(text, str):
            raise EditRefused(f"{where}.text", "a string, or null to delete the file")
        ws.put_text(path, text)
    else:
        ws._docs.pop(path, None)
        ws.files[path] = _data(edit, where)


OPS = {
    "set_color": _set_color,
    "set_string": _set_string,
    "move_scene": _move_scene,
    "set_scene": _set_scene,
    "set_layer": _set_layer,
    "upload_asset": _upload_asset,
    "set_file": _set_file,
}


def apply_edits(files: Files, edits: list[Any]) -> dict[str, bytes]:
    """New files with `edits` made in order; EditRefused naming the first that cannot be."""
    if not isinstance(edits, list):
        raise EditRefused("edits", "a list of edits")
    ws = Workspace(files)
    for i, edit in enumerate(edits):
        where = f"edits[{i}]"
        if not isinstance(edit, Mapping) or edit.get("op") not in OPS:
            raise EditRefused(f"{where}.op", f"one of {', '.join(OPS)}")
        OPS[edit["op"]](ws, edit, where)
    ws.flush()
    return ws.files


def changes(old: Files, new: Files) -> dict[str, bytes | None]:
    """What a save sends: the files that differ, None for the ones removed."""
    out: dict[str, bytes | None] = {p: d for p, d in new.items() if old.get(p) != d}
    out.update({p: None for p in old if p not in new})
    return out
