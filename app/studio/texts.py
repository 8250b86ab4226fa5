"""Every on-screen and spoken string as a table: one row a key, one column a locale.

Two catalogs: `video` (the narration strings, `scenes/narration/LOCALE.yaml`, drawn by text
layers and spoken) and `site` (the microsite's messages, `microsite/messages/LOCALE.po`
translating `messages.pot`). A cell is *missing* when the locale does not translate the key
(the render falls back to English), *too long* when it would be cut in a layer of the video
(`measure.too_long`) or, with no layer to measure, is more than `LONG_RATIO` times the
English text (and `LONG_SLACK` characters more).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from app.studio import bundle, potext, yamltext
from app.studio.bundle import FALLBACK, Files
from app.studio.errors import EditRefused
from app.studio.measure import Usage, too_long
from renderers.story import PLACEHOLDERS, TONES
from renderers.video.layers.text import Text
from renderers.video.spec import VideoSpec

LONG_RATIO = 2.0
LONG_SLACK = 10  # characters: a short English word may well double
LITERAL_KEY = re.compile(r"t\[\s*'([A-Za-z0-9_.]+)'\s*\]")
TONE_KEY = re.compile(r"t\[\s*'([A-Za-z0-9_.]*)'\s*~\s*tone\s*~\s*'([A-Za-z0-9_.]*)'\s*\]")


def keys_in(template: str) -> list[str]:
    """Narration keys a text template reads: `t['a.b']`, and `t['a.' ~ tone ~ '.b']` for
    every tone."""
    keys = LITERAL_KEY.findall(template)
    for head, tail in TONE_KEY.findall(template):
        keys += [f"{head}{tone}{tail}" for tone in TONES]
    return list(dict.fromkeys(keys))


def usages(spec: VideoSpec) -> dict[str, list[Usage]]:
    found: dict[str, list[Usage]] = {}
    for scene in spec.scenes:
        for index, layer in enumerate(scene.layers):
            if isinstance(layer, Text):
                for key in keys_in(layer.text):
                    found.setdefault(key, []).append(Usage(scene.id, index, layer))
    return found


def spoken_keys(spec: VideoSpec) -> set[str]:
    return {key for scene in spec.scenes if scene.say for key in keys_in(scene.say)}


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(data, Mapping):
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(data, str):
        out[prefix[:-1]] = str(data)
    return out


def narration(files: Files) -> dict[str, dict[str, str]]:
    """locale -> key -> string."""
    return {
        locale: flatten(yamltext.read(bundle.text(files, path), path))
        for locale, path in bundle.narration_files(files).items()
    }


def site_messages(files: Files) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The English source (key -> msgid) and locale -> key -> translation (the used ones)."""
    if bundle.POT not in files:
        return {}, {}
    pot = potext.messages(potext.read(bundle.text(files, bundle.POT), bundle.POT))
    source = {key: str(m.id) for key, m in pot.items()}
    out: dict[str, dict[str, str]] = {}
    for locale, path in bundle.message_files(files).items():
        catalog = potext.read(bundle.text(files, path), path, locale.replace("-", "_"))
        out[locale] = {
            key: str(m.string)
            for key, m in potext.messages(catalog).items()
            if isinstance(m.string, str) and m.string and not m.fuzzy
        }
    return source, out


def _long_for_its_source(value: str, source: str) -> str | None:
    if len(value) > LONG_RATIO * len(source) + LONG_SLACK:
        return f"{len(value)} characters, more than {LONG_RATIO:g} times the English text"
    return None


def _cell(value: str | None, missing: bool, long: str | None) -> dict[str, Any]:
    return {"value": value, "missing": missing, "too_long": long}


def table(files: Files, spec: VideoSpec) -> dict[str, Any]:
    strings = narration(files)
    source, translated = site_messages(files)
    locales = bundle.ordered_locales(set(strings) | set(translated) | {FALLBACK})
    drawn = usages(spec)
    spoken = spoken_keys(spec)
    fonts = json.dumps({k: v.model_dump() for k, v in spec.fonts.items()}, sort_keys=True)
    rows: list[dict[str, Any]] = []
    fallback = strings.get(FALLBACK, {})
    for key in sorted(fallback):
        cells = {}
        for locale in locales:
            value = strings.get(locale, {}).get(key)
            shown = value if value is not None else fallback[key]
            long = too_long(shown, locale, drawn.get(key, []), fonts) if key in drawn else None
            if long is None and value is not None and locale != FALLBACK:
                long = _long_for_its_source(value, fallback[key])
            cells[locale] = _cell(value, value is None and locale in strings, long)
        rows.append({
            "catalog": "video", "key": key, "source": fallback[key],
            "used_by": [f"{u.scene}, layer {u.layer}" for u in drawn.get(key, [])],
            "spoken": key in spoken or key.startswith("say."), "cells": cells,
        })  # fmt: skip
    for key in sorted(source):
        cells = {}
        for locale in locales:
            value = translated.get(locale, {}).get(key)
            if locale == FALLBACK and value is None:
                value = source[key]
            long = None if value is None or locale == FALLBACK else (
                _long_for_its_source(value, source[key]))  # fmt: skip
            cells[locale] = _cell(value, value is None and locale in translated, long)
        rows.append({"catalog": "site", "key": key, "source": source[key], "used_by": [],
                     "spoken": False, "cells": cells})  # fmt: skip
    return {
        "locales": locales,
        "fallback": FALLBACK,
        "catalogs": {
            "video": sorted(strings),
            "site": sorted(translated),
        },
        "placeholders": list(PLACEHOLDERS),
        "rows": rows,
    }


def check_placeholders(value: str, field: str) -> None:
    from renderers.catalog import PLACEHOLDER

    for name in PLACEHOLDER.findall(value):
        if name not in PLACEHOLDERS:
            raise EditRefused(
                field, f"unknown placeholder {{{name}}}; allowed: {', '.join(PLACEHOLDERS)}"
            )
