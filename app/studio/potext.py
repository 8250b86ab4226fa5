"""gettext catalogs (`microsite/messages/LOCALE.po`) edited in place.

Babel parses the catalog and formats the new string (`normalize`, at the width the catalogs
were written with: `pybabel update --width 100` gives the same lines); only the entry's
`msgstr` lines change, so headers, comments and every other entry keep their bytes. Babel's
`write_po` would rewrite the header (its own version, a bug-report address) of every file.
"""

from __future__ import annotations

import io
import re

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, normalize, read_po

from app.studio.errors import EditRefused

PO_WIDTH = 100  # the catalogs' line width


def read(text: str, path: str, locale: str | None = None) -> Catalog:
    try:
        return read_po(io.BytesIO(text.encode("utf-8")), locale=locale, abort_invalid=True)
    except (PoFileError, ValueError) as exc:
        raise EditRefused(path, f"the catalog does not parse: {exc}") from exc


def messages(catalog: Catalog) -> dict[str, Message]:
    """Entries by key (their msgctxt), header left out."""
    return {m.context: m for m in catalog if m.id and m.context}


def _entry_start(lines: list[str], key: str) -> int | None:
    wanted = f"msgctxt {normalize(key, width=0)}"
    return next((i for i, line in enumerate(lines) if line.rstrip("\n") == wanted), None)


def _continued(lines: list[str], i: int) -> int:
    """The index after the string lines that start at `i` (`keyword "..."` and `"..."` lines)."""
    i += 1
    while i < len(lines) and lines[i].startswith('"'):
        i += 1
    return i


def set_translation(text: str, path: str, key: str, value: str, source: Message) -> str:
    """`text` with the entry `key` translated as `value` (no longer fuzzy); an entry the file
    lacks is added from the template's `source` entry."""
    lines = text.splitlines(keepends=True)
    start = _entry_start(lines, key)
    msgstr = f"msgstr {normalize(value, width=PO_WIDTH)}\n"
    if start is None:
        flags = sorted(f for f in source.flags if f != "fuzzy")
        entry = ["\n"] if lines and lines[-1].strip() else []
        if lines and not lines[-1].endswith("\n"):
            entry.insert(0, "\n")
        if flags:
            entry.append(f"#, {', '.join(flags)}\n")
        entry += [
            f"msgctxt {normalize(key, width=0)}\n",
            f"msgid {normalize(str(source.id), width=PO_WIDTH)}\n",
            msgstr,
        ]
        return "".join(lines + entry)
    # The entry's flags are the `#,` line just above msgctxt, if any.
    flag_line = start - 1
    if flag_line >= 0 and lines[flag_line].startswith("#,"):
        flags = [f.strip() for f in lines[flag_line][2:].split(",") if f.strip() != "fuzzy"]
        if flags:
            lines[flag_line] = f"#, {', '.join(flags)}\n"
        else:
            del lines[flag_line]
            start -= 1
    i = _continued(lines, start)  # past msgctxt
    if i >= len(lines) or not lines[i].startswith("msgid "):
        raise EditRefused(path, f"the entry {key!r} has no msgid after its msgctxt")
    i = _continued(lines, i)
    if i >= len(lines) or not re.match(r"msgstr ", lines[i]):
        raise EditRefused(path, f"the entry {key!r} has no singular msgstr")
    end = _continued(lines, i)
    lines[i:end] = [msgstr]
    return "".join(lines)
