"""A save that lost the race: what each of my edits would overwrite of the other editor's.

When a draft was saved by someone else after I loaded it, my edits are laid beside theirs:
for each edit, the value it targets as I first saw it (`base`), as it is now (`theirs`) and
as I set it (`mine`). An edit whose target they changed too is a conflict: both texts are
shown and kept until I choose; one they did not touch can be laid over theirs as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from app.studio.bundle import Files
from app.studio.edits import apply_edits
from app.studio.errors import EditRefused
from app.studio.forms import read_form, scene_ids


def _scene(form: Mapping[str, Any], scene_id: str) -> Mapping[str, Any] | None:
    return next((s for s in form.get("scenes") or [] if s["id"] == scene_id), None)


def target(files: Files, edit: Mapping[str, Any], form: Mapping[str, Any] | None = None) -> Any:
    """What the edit's target holds in `files` (None when it is not there)."""
    op = edit.get("op")
    if op in ("set_file", "upload_asset"):
        data = files.get(str(edit.get("path")))
        if data is None:
            return None
        try:
            return data.decode("utf-8") if op == "set_file" else hashlib.sha256(data).hexdigest()
        except UnicodeDecodeError:
            return hashlib.sha256(data).hexdigest()
    if op == "move_scene":
        ids = scene_ids(files)
        return ids.index(edit["scene"]) if edit.get("scene") in ids else None
    form = form if form is not None else read_form(files)
    if op == "set_color":
        colors = {c["name"]: c["value"] for c in (form.get("theme") or {}).get("colors", [])}
        return colors.get(edit.get("name"))
    if op == "set_string":
        for row in (form.get("texts") or {}).get("rows", []):
            if (row["catalog"], row["key"]) == (edit.get("catalog"), edit.get("key")):
                return row["cells"].get(edit.get("locale"), {}).get("value")
        return None
    scene = _scene(form, str(edit.get("scene")))
    if scene is None:
        return None
    if op == "set_scene":
        return scene.get(str(edit.get("field")))
    if op == "set_layer":
        layers = scene.get("layers", [])
        index = edit.get("layer")
        if not isinstance(index, int) or not 0 <= index < len(layers):
            return None
        layer = layers[index]
        if edit.get("field") == "box" and edit.get("format"):
            return layer.get("boxes", {}).get(edit["format"], layer.get("box"))
        return layer.get(str(edit.get("field")))
    return None


def label(edit: Mapping[str, Any]) -> str:
    """The edit in words, for the conflict panel."""
    op = edit.get("op")
    if op == "set_string":
        return f"Text {edit.get('key')} ({edit.get('catalog')}, {edit.get('locale')})"
    if op == "set_color":
        return f"Colour {edit.get('name')}"
    if op == "set_scene":
        return f"Scene {edit.get('scene')}: {edit.get('field')}"
    if op == "set_layer":
        return f"Scene {edit.get('scene')}, layer {edit.get('layer')}: {edit.get('field')}"
    if op == "move_scene":
        return f"Scene {edit.get('scene')}: position"
    return f"File {edit.get('path')}"


def conflicts(base: Files | None, theirs: Files, edits: list[Any]) -> list[dict[str, Any]]:
    """Each of my edits beside the other editor's state of its target. Without the files I
    started from (`base` None), every edit whose value differs from theirs is a conflict."""
    their_form = read_form(theirs)
    base_form = read_form(base) if base is not None else None
    mine = base if base is not None else theirs
    items = []
    for i, edit in enumerate(edits):
        try:
            mine = apply_edits(mine, [edit])
            mine_value = target(mine, edit)
        except EditRefused as exc:
            mine_value = f"(cannot be made: {exc})"
        now = target(theirs, edit, their_form)
        was = target(base, edit, base_form) if base is not None else None
        changed_by_them = base is None or was != now
        items.append({
            "index": i, "edit": edit, "label": label(edit), "base": was, "theirs": now,
            "mine": mine_value, "conflict": changed_by_them and now != mine_value,
        })  # fmt: skip
    return items


__all__ = ["conflicts", "label", "target"]
