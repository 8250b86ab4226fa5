"""YAML files edited in place: ruamel.yaml's round trip keeps comments, key order, flow and
block styles and quoting; only the values an edit touches change.

The bundles write invisible characters (a zero-width space where Thai may break a line, a
no-break space) as escapes, so a person can see them. ruamel.yaml would write them as the
characters themselves; the emitter here keeps them escaped inside double-quoted strings.
"""

from __future__ import annotations

import io
import unicodedata
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from app.studio.errors import EditRefused

WIDTH = 4096  # never fold a long line: the files keep one string a line


def _invisible(char: str) -> bool:
    """Format characters (zero-width spaces, joiners, direction marks) and spaces other than
    the plain one: drawn as nothing or as a space, so a file shows them as escapes."""
    return char != " " and unicodedata.category(char) in {"Cf", "Zs", "Zl", "Zp"}


class _EscapingStream:
    """Writes what the emitter writes, invisible characters as `\\uXXXX` escapes (only ever
    installed while a double-quoted scalar is written, where an escape means the character)."""

    def __init__(self, stream: Any, emitter: Any):
        self._stream = stream
        self._emitter = emitter

    def write(self, data: str) -> None:
        if any(_invisible(c) for c in data):
            escaped = "".join(f"\\u{ord(c):04x}" if _invisible(c) else c for c in data)
            self._emitter.column += len(escaped) - len(data)  # comments after keep their column
            data = escaped
        self._stream.write(data)


class _Emitter(RoundTripEmitter):
    def write_double_quoted(self, text: Any, split: Any = True) -> None:
        stream = self.stream
        self.stream = _EscapingStream(stream, self)
        try:
            super().write_double_quoted(text, split)
        finally:
            self.stream = stream


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.Emitter = _Emitter
    yaml.preserve_quotes = True
    yaml.width = WIDTH
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load(text: str, path: str) -> Any:
    """The round-trip document of a YAML file; EditRefused naming the file if it is not YAML."""
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        raise EditRefused(path, f"the file is not valid YAML ({exc.__class__.__name__})") from exc


_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read(text: str, path: str) -> Any:
    """The plain data of a YAML file, for reading only (libyaml: many times faster than the
    round trip, which only an edit needs)."""
    try:
        return yaml.load(text, Loader=_FAST)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise EditRefused(path, f"the file is not valid YAML ({exc.__class__.__name__})") from exc


def dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def like(old: Any, new: str) -> str:
    """`new` quoted as the value it replaces was (a colour must stay quoted: `#` starts a
    comment); new strings are double-quoted, as the bundles write them."""
    kind: type[str] = DoubleQuotedScalarString
    if isinstance(old, SingleQuotedScalarString):
        kind = SingleQuotedScalarString
    elif isinstance(old, str) and not isinstance(old, DoubleQuotedScalarString):
        kind = str  # plain: ruamel.yaml quotes it if it must
    return kind(new)
