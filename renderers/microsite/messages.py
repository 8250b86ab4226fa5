"""The page's messages: gettext catalogs (Babel) in `messages/`, checked when loaded.

`messages.pot` is the source: one entry per key the page uses, `msgctxt` the key and `msgid`
the English text. Each `LOCALE.po` translates it (`msgstr`). An empty or fuzzy translation
is not used (gettext's rule), so that key falls back to the English source; the tests demand
that every shipped locale translates every msgid. Placeholders are `{field}` names that the
renderer fills by plain substitution (`renderers.catalog.fill`): customer text is data.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po

from renderers.catalog import FALLBACK_LOCALE, PLACEHOLDER, Catalogs
from renderers.errors import TemplateError
from renderers.story import PLACEHOLDERS, TONES

TEMPLATE_FILE = "messages.pot"

REQUIRED_MESSAGES: tuple[str, ...] = (
    "page.title",
    "greeting",
    "intro",
    *(f"status.{t}" for t in TONES),
    *(f"total.{t}" for t in TONES),
    "due_date",
    "period",
    "lines.heading",
    "lines.item",
    "lines.amount",
    "lines.total",
    "video.heading",
    "video.captions",
    "video.fallback",
    *(f"video.{k}" for k in ("chapters", "actions", "speed")),
    "lines.watch",
    "pay.button",
    "firm.instalments",
    "tips.heading",
    "footer",
    *(f"chart.{k}" for k in ("heading", "this_month", "last_year", "peers", "table", "month")),
    "chart.value",
    *(f"bank.{k}" for k in ("heading", "scan", "iban", "beneficiary", "reference", "amount")),
    *(f"bank.{k}" for k in ("copy", "copied", "qr_title")),
    "cta.heading",
    *(f"cta.{k}" for k in ("instalments", "paperless", "direct_debit", "contact")),
    *(f"done.{k}" for k in ("instalments", "paperless", "direct_debit", "contact")),
)


def read_catalog(file: Path, locale: str | None = None) -> Catalog:
    """One .po/.pot file, parsed strictly: a syntax error names the file and line."""
    try:
        with file.open("rb") as fp:
            return read_po(fp, locale=locale, abort_invalid=True)
    except PoFileError as exc:
        raise TemplateError(f"invalid gettext catalog: {exc}", file=file, line=exc.lineno) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise TemplateError(f"invalid gettext catalog: {exc}", file=file) from exc


def entries(catalog: Catalog) -> list[Message]:
    """The catalog's messages without its header entry."""
    return [m for m in catalog if m.id]


def _key(message: Message, file: Path) -> str:
    if not isinstance(message.id, str) or not message.context:
        raise TemplateError(
            "every message needs a msgctxt (its key) and a singular msgid",
            file=file,
            line=message.lineno,
        )
    return message.context


def _check_fields(text: str, allowed: Collection[str], file: Path, message: Message) -> None:
    for field in PLACEHOLDER.findall(text):
        if field not in allowed:
            raise TemplateError(
                f"unknown placeholder {{{field}}}; allowed: {', '.join(sorted(allowed))}",
                file=file,
                line=message.lineno,
                path=message.context,
            )


def _source(directory: Path, required: Collection[str], allowed: Collection[str]) -> dict[str, str]:
    file = directory / TEMPLATE_FILE
    if not file.is_file():
        raise TemplateError(f"the message template {TEMPLATE_FILE} is missing", file=directory)
    source: dict[str, str] = {}
    for message in entries(read_catalog(file)):
        key = _key(message, file)
        _check_fields(str(message.id), allowed, file, message)
        source[key] = str(message.id)
    for key in sorted(set(required) - set(source)):
        raise TemplateError("required message is missing", file=file, line=1, path=key)
    return source


def _translations(
    file: Path, source: Mapping[str, str], allowed: Collection[str]
) -> dict[str, str]:
    name = file.stem
    try:
        Locale.parse(name, sep="-")
    except (ValueError, UnknownLocaleError) as exc:
        raise TemplateError("file name is not a known locale tag", file=file) from exc
    out: dict[str, str] = {}
    for message in entries(read_catalog(file, name.replace("-", "_"))):
        key = _key(message, file)
        if key not in source:
            raise TemplateError(
                f"unknown message (not in {TEMPLATE_FILE})",
                file=file,
                line=message.lineno,
                path=key,
            )
        if message.id != source[key]:
            raise TemplateError(
                f"msgid differs from {TEMPLATE_FILE}: update this catalog from the template",
                file=file,
                line=message.lineno,
                path=key,
            )
        text = message.string if isinstance(message.string, str) else ""
        _check_fields(text, allowed, file, message)
        if text and not message.fuzzy:
            out[key] = text
    return out


def load_site_messages(
    directory: Path,
    *,
    required: Collection[str] = REQUIRED_MESSAGES,
    placeholders: Collection[str] = PLACEHOLDERS,
) -> Catalogs:
    """Load `messages.pot` and every `LOCALE.po`; the English source is the fallback."""
    source = _source(directory, required, placeholders)
    by_locale: dict[str, dict[str, str]] = {}
    for file in sorted(directory.glob("*.po")):
        by_locale[file.stem] = _translations(file, source, placeholders)
    by_locale[FALLBACK_LOCALE] = {**source, **by_locale.get(FALLBACK_LOCALE, {})}
    return Catalogs(directory=directory, by_locale=by_locale)
