"""A version's files read as the studio's form (JSON-able): theme, assets, texts, scenes.

`read_form(files)` never fails on a broken spec: the form then carries the problem (file,
line, path, message) and only the parts that need no spec (the texts), so the studio can
send its user to the code view with the line to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

import annotated_types
from pydantic import BaseModel, ValidationError

from app.studio import bundle, conditions, texts, yamltext
from app.studio.bundle import Files
from app.studio.contrast import ratio, verdict
from app.studio.edits import LAYER_FIELDS, THEME_NAMES
from app.studio.errors import EditRefused
from renderers.story import FIRM_SEGMENTS, TONES
from renderers.video.animation import EASINGS
from renderers.video.formats import FORMAT_NAMES
from renderers.video.layers import LAYER_TYPES, REGISTRY
from renderers.video.layers.text import Text
from renderers.video.spec import Scene, Transition, VideoSpec
from renderers.yamlfile import dotted

COLOR_LABELS = {
    "background": "Background",
    "panel": "Panel (the gradient's other end)",
    "text": "Text",
    "muted": "Muted text",
    "accent": "Accent",
    **{f"tones.{t}": f"Ending: {t}" for t in TONES},
}
# Text colours against what they are drawn on: the background, and the panel its gradients
# run to. The ending's tone colour is text on the background.
FOREGROUNDS = ("text", "muted", "accent", *(f"tones.{t}" for t in TONES))
BACKGROUNDS = ("background", "panel")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
AUDIO_SUFFIXES = {".ogg", ".oga", ".mp3", ".wav", ".m4a", ".flac"}


def colors(spec: VideoSpec) -> dict[str, str]:
    theme = spec.theme
    out = {name: str(getattr(theme, name)) for name in THEME_NAMES}
    out.update({f"tones.{t}": str(getattr(theme.tones, t)) for t in TONES})
    return out


def theme_form(spec: VideoSpec) -> dict[str, Any]:
    values = colors(spec)
    checks = []
    for fg in FOREGROUNDS:
        for bg in BACKGROUNDS:
            if fg.startswith("tones.") and bg != "background":
                continue
            value = ratio(values[fg], values[bg])
            checks.append({"foreground": fg, "background": bg, "ratio": round(value, 2),
                           "verdict": verdict(value)})  # fmt: skip
    return {
        "colors": [{"name": n, "label": COLOR_LABELS[n], "value": v} for n, v in values.items()],
        "contrast": checks,
    }


def assets_form(files: Files, spec: VideoSpec | None) -> list[dict[str, Any]]:
    logo = music = None
    users: dict[str, list[str]] = {}
    if spec is not None:
        music = f"scenes/{spec.audio.music}" if spec.audio.music else None
        for scene in spec.scenes:
            for i, layer in enumerate(scene.layers):
                path = getattr(layer, "path", None) or getattr(layer, "image", None)
                if isinstance(path, str):
                    users.setdefault(f"scenes/{path}", []).append(f"{scene.id}, layer {i}")
                    if layer.type == "image" and logo is None:
                        logo = f"scenes/{path}"
    out = []
    for path in sorted(p for p in files if p.startswith(bundle.ASSETS + "/")):
        suffix = PurePosixPath(path).suffix.lower()
        kind = (
            "image" if suffix in IMAGE_SUFFIXES else "audio" if suffix in AUDIO_SUFFIXES else "file"
        )
        role = "logo" if path == logo else "music" if path == music else None
        used = users.get(path, []) + (["the music bed"] if role == "music" else [])
        out.append(
            {"path": path, "kind": kind, "size": len(files[path]), "role": role, "used_by": used}
        )
    return out


def _layer_form(index: int, layer: Any) -> dict[str, Any]:
    data = layer.model_dump(mode="json")
    fields = [name for name in LAYER_FIELDS if name in data]
    when = conditions.parse(layer.when).to_json() if layer.when else None
    out: dict[str, Any] = {"index": index, "type": data["type"], "editable": fields, "when": when}
    out.update({name: data[name] for name in fields})
    out["boxes"] = data.get("boxes", {})
    if "path" in data:
        out["path"] = data["path"]
    return out


def scenes_form(spec: VideoSpec) -> list[dict[str, Any]]:
    return [
        {
            "id": scene.id,
            "position": i,
            "enabled": scene.enabled,
            "duration": scene.duration,
            "transition": scene.transition.model_dump(mode="json"),
            "when": conditions.parse(scene.when).to_json(),
            "shared": scene.shared,
            "poster": scene.poster,
            "spoken": scene.say is not None,
            "layers": [_layer_form(j, layer) for j, layer in enumerate(scene.layers)],
        }
        for i, scene in enumerate(spec.scenes)
    ]


def _bounds(model: type[BaseModel], name: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in model.model_fields[name].metadata:
        for attr, key in (("ge", "min"), ("gt", "min"), ("le", "max"), ("lt", "max")):
            value = getattr(item, attr, None)
            if isinstance(item, annotated_types.BaseMetadata) and value is not None:
                out[key] = float(value)
    return out


def choices(spec: VideoSpec | None) -> dict[str, Any]:
    segments = set(FIRM_SEGMENTS)
    if spec is not None:
        for scene in spec.scenes:
            segments.update(conditions.parse(scene.when).segment)
    return {
        "tone": list(TONES),
        "status": list(conditions.STATUSES),
        "segment": sorted(segments),
        "transition": ["fade", "cut"],
        "color": [*THEME_NAMES, "tone"],
        "align": ["start", "center", "end"],
        "valign": ["top", "center", "bottom"],
        "formats": list(FORMAT_NAMES),
        "easings": list(EASINGS),
        "layer_types": list(LAYER_TYPES),
        "limits": {
            "duration": _bounds(Scene, "duration"),
            "transition": _bounds(Transition, "duration"),
            "size": _bounds(Text, "size"),
            "min_size": _bounds(Text, "min_size"),
            "max_lines": _bounds(Text, "max_lines"),
        },
    }


def read_spec(files: Files) -> VideoSpec:
    """The scene spec; EditRefused naming its file and the path of the first problem."""
    data = yamltext.read(bundle.text(files, bundle.SPEC), bundle.SPEC)
    try:
        return VideoSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = tuple(p for p in first["loc"] if isinstance(p, str | int) and p not in REGISTRY)
        raise EditRefused(f"{bundle.SPEC}: {dotted(key)}", str(first["msg"])) from exc


def read_form(files: Files) -> dict[str, Any]:
    problem = None
    spec: VideoSpec | None = None
    try:
        spec = read_spec(files)
    except EditRefused as exc:
        problem = {"field": exc.field, "message": exc.message}
    form: dict[str, Any] = {
        "problem": problem,
        "theme": theme_form(spec) if spec else None,
        "assets": assets_form(files, spec),
        "scenes": scenes_form(spec) if spec else None,
        "choices": choices(spec),
        "files": sorted(files),
    }
    try:
        form["texts"] = texts.table(files, spec) if spec else None
    except EditRefused as exc:
        form["texts"] = None
        form["problem"] = form["problem"] or {"field": exc.field, "message": exc.message}
    return form


def scene_ids(files: Files) -> list[str]:
    doc = yamltext.read(bundle.text(files, bundle.SPEC), bundle.SPEC)
    scenes = doc.get("scenes") if isinstance(doc, Mapping) else None
    return [str(s.get("id")) for s in scenes or [] if isinstance(s, Mapping)]
