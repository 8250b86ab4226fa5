"""The synthetic sample bills a template is previewed over: one per ending, shipped here.

Each file in `samples/` is a normalized `bill/v1` document (tests/preview checks it against
`app.intake`) made up for previews: no real customer's data is ever read. A sample has no
locale of its own; each preview sets `customer.locale` to one the template has narration for.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from renderers.story import TONES, Tone
from renderers.templates import TemplateBundle

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
ENDINGS: tuple[Tone, ...] = TONES  # pay, nudge, firm, thanks, credit: one sample each


class UnknownSample(ValueError):
    """No sample bill by that name, or a locale the template has no narration for."""


@cache
def _document(ending: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES_DIR / f"{ending}.json").read_text("utf-8"))
    return data


def sample_bill(ending: str, locale: str | None = None) -> dict[str, Any]:
    """A fresh copy of the sample bill whose ending is `ending`, in `locale` (a BCP 47 tag;
    None: the template's default locale)."""
    if ending not in ENDINGS:
        raise UnknownSample(f"no sample bill {ending!r}; there are {', '.join(ENDINGS)}")
    bill = copy.deepcopy(_document(ending))
    if locale is not None:
        bill["customer"]["locale"] = locale
    return bill


def template_locales(bundle: TemplateBundle) -> list[str]:
    """The locales the template has narration for (its narration files' tags), sorted."""
    return bundle.narration.locales


def check_locale(bundle: TemplateBundle, locale: str) -> str:
    if locale not in template_locales(bundle):
        known = ", ".join(template_locales(bundle))
        raise UnknownSample(f"the template has no narration for {locale!r}; it has {known}")
    return locale
