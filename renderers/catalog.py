"""Message catalogs: per-locale YAML files of strings, with {placeholder} fields.

Catalogs are template data that marketing edits, so they are checked when loaded: every file's
keys must exist in the fallback catalog, and placeholders must be ones the renderer fills.
Values are filled by plain substitution (no attribute access, no format specs): customer text
is inserted as data and never interpreted.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError

from renderers.errors import TemplateError
from renderers.yamlfile import Key, dotted, line_of, load_yaml

FALLBACK_LOCALE = "en"
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace each {field} with its value; fields were checked at load time."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def locale_chain(locale: Locale) -> list[str]:
    """Catalog names to try, most specific first: zh_Hant_TW -> zh-Hant-TW, zh-Hant, zh-TW, zh."""
    lang, script, territory = locale.language, locale.script, locale.territory
    chain = [
        "-".join(p for p in (lang, script, territory) if p),
        f"{lang}-{script}" if script else "",
        f"{lang}-{territory}" if territory else "",
        lang,
    ]
    return list(dict.fromkeys(c for c in chain if c))


def _flatten(
    data: Any, key: Key, out: dict[str, tuple[str, Key]], file: Path, lines: dict[Key, int]
) -> None:
    if isinstance(data, Mapping):
        for k, v in data.items():
            _flatten(v, (*key, str(k)), out, file, lines)
    elif isinstance(data, str):
        out[".".join(str(k) for k in key)] = (data, key)
    else:
        raise TemplateError(
            "a message must be a string or a mapping of messages",
            file=file,
            line=line_of(lines, key),
            path=dotted(key),
        )


@dataclass(frozen=True)
class Catalogs:
    """All locales of one catalog directory; `for_locale` merges a locale over the fallback."""

    directory: Path
    by_locale: Mapping[str, Mapping[str, str]]

    @property
    def locales(self) -> list[str]:
        return sorted(self.by_locale)

    def for_locale(self, locale: Locale) -> dict[str, str]:
        merged = dict(self.by_locale[FALLBACK_LOCALE])
        for name in reversed(locale_chain(locale)):
            merged.update(self.by_locale.get(name, {}))
        return merged

    def filled(self, locale: Locale, values: Mapping[str, str]) -> dict[str, str]:
        return {k: fill(v, values) for k, v in self.for_locale(locale).items()}


def load_catalogs(
    directory: Path, *, required: Collection[str], placeholders: Collection[str]
) -> Catalogs:
    """Load `directory/*.yaml`; the fallback file must hold every `required` key."""
    files = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    if not files:
        raise TemplateError("no message catalogs (*.yaml) found", file=directory)
    raw: dict[str, dict[str, tuple[str, Key]]] = {}
    line_maps: dict[str, tuple[Path, dict[Key, int]]] = {}
    for file in files:
        name = file.stem
        try:
            Locale.parse(name, sep="-")
        except (ValueError, UnknownLocaleError) as exc:
            raise TemplateError("file name is not a known locale tag", file=file) from exc
        data, lines = load_yaml(file)
        if not isinstance(data, Mapping):
            raise TemplateError("a catalog must be a mapping of messages", file=file, line=1)
        flat: dict[str, tuple[str, Key]] = {}
        _flatten(data, (), flat, file, lines)
        raw[name] = flat
        line_maps[name] = (file, lines)
    if FALLBACK_LOCALE not in raw:
        raise TemplateError(
            f"the fallback catalog {FALLBACK_LOCALE}.yaml is missing", file=directory
        )
    fallback_file = line_maps[FALLBACK_LOCALE][0]
    for key in sorted(set(required) - set(raw[FALLBACK_LOCALE])):
        raise TemplateError("required message is missing", file=fallback_file, line=1, path=key)
    allowed = set(placeholders)
    for name, flat in raw.items():
        file, lines = line_maps[name]
        for key, (text, key_path) in flat.items():
            line = line_of(lines, key_path)
            if key not in raw[FALLBACK_LOCALE]:
                raise TemplateError(
                    f"unknown message (not in {FALLBACK_LOCALE}.yaml)",
                    file=file,
                    line=line,
                    path=key,
                )
            for field in PLACEHOLDER.findall(text):
                if field not in allowed:
                    raise TemplateError(
                        f"unknown placeholder {{{field}}}; allowed: {', '.join(sorted(allowed))}",
                        file=file,
                        line=line,
                        path=key,
                    )
    return Catalogs(
        directory=directory,
        by_locale={name: {k: v for k, (v, _) in flat.items()} for name, flat in raw.items()},
    )
