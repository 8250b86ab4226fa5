"""Fresh, valid `bill/v1` documents and render requests for tests, with overrides.

Every call returns a new plain dict (a deep copy), so a test may change it freely.

Overrides are keyword arguments whose names are dotted paths into the document; list
items are addressed by index. Because dots are not allowed in Python keyword names, pass
dotted paths with `**{...}`; a plain name sets a top-level key:

    make_bill(**{"bill.status": "overdue", "bill.days_overdue": 3})
    make_bill(**{"bill.lines.0.amount": "52.11"}, drop=["bill.lines"])
    make_bill(extra={"campaign": "winter"})
    make_render_request(outputs=["microsite"], **{"data.customer.locale": "fr-FR"})

A value replaces what is at its path (intermediate objects are created when missing).
`drop` names paths to delete (a string or a list of strings), applied after the overrides;
dropping a path that does not exist is an error, so typos fail loudly.
"""

from __future__ import annotations

import copy
from typing import Any

# A realistic open EUR bill: its lines add up to its total, with consumption, SEPA and tips.
VALID_BILL: dict[str, Any] = {
    "customer": {
        "id": "CUST-000123",
        "name": "Giulia Rossi",
        "locale": "it-IT",
        "segment": "punctual",
    },
    "bill": {
        "number": "F-2026-11-000123",
        "issued_on": "2026-11-01",
        "due_on": "2026-11-30",
        "period": {"start": "2026-10-01", "end": "2026-10-31"},
        "currency": "EUR",
        "total": "84.20",
        "lines": [
            {"label": "Energia", "category": "energy", "amount": "52.10"},
            {
                "label": "Trasporto e gestione del contatore",
                "category": "network",
                "amount": "14.30",
            },
            {"label": "Oneri di sistema", "category": "charges", "amount": "6.60"},
            {"label": "Imposte e IVA", "category": "taxes", "amount": "11.20"},
        ],
        "status": "open",
        "consumption": {
            "unit": "kWh",
            "history": [
                {"month": "2025-11", "value": 236.2},
                {"month": "2025-12", "value": 255.5},
                {"month": "2026-01", "value": 262.5},
                {"month": "2026-02", "value": 255.5},
                {"month": "2026-03", "value": 236.2},
                {"month": "2026-04", "value": 210.0},
                {"month": "2026-05", "value": 183.8},
                {"month": "2026-06", "value": 164.5},
                {"month": "2026-07", "value": 157.5},
                {"month": "2026-08", "value": 164.5},
                {"month": "2026-09", "value": 183.7},
                {"month": "2026-10", "value": 210.0},
            ],
            "peer_average": 230.0,
        },
    },
    "payment": {
        "url": "https://pay.example.com/i/F-2026-11-000123",
        "sepa": {
            "iban": "IT60X0542811101000000123456",
            "bic": "BPMOIT22XXX",
            "beneficiary": "Acme Energia S.p.A.",
            "reference": "F-2026-11-000123",
        },
    },
    "tips": [
        {
            "title": "Sposta i consumi la sera",
            "body": "Lavatrice e lavastoviglie dopo le 19 costano meno nella fascia F2-F3.",
        },
        {
            "title": "Spegni lo stand-by",
            "body": "Una ciabatta con interruttore evita 40 euro l'anno di consumi nascosti.",
        },
    ],
    "extra": {"campaign": "autumn-2026", "account_manager": {"name": "Paolo", "ext": 214}},
}

VALID_REQUEST: dict[str, Any] = {
    "template": "bill-explainer",
    "outputs": ["video", "microsite"],
    "external_id": "F-2026-11-000123",
}


# `drop` is typed Any so that `make_bill(**{"a.b": 1})` type-checks whatever the values are.
def make_bill(*, drop: Any = (), **overrides: Any) -> dict[str, Any]:
    """A valid bill dict; see the module docstring for overrides and `drop`."""
    return _build(VALID_BILL, overrides, drop)


def make_render_request(*, drop: Any = (), **overrides: Any) -> dict[str, Any]:
    """A valid render request whose `data` is `make_bill()`; paths start at the request."""
    base = copy.deepcopy(VALID_REQUEST)
    base["data"] = copy.deepcopy(VALID_BILL)
    return _build(base, overrides, drop)


def _build(base: dict[str, Any], overrides: dict[str, Any], drop: Any) -> dict[str, Any]:
    paths: list[str] = [drop] if isinstance(drop, str) else list(drop)
    if not all(isinstance(path, str) for path in paths):
        raise TypeError("drop takes a dotted path or a list of them")
    doc = copy.deepcopy(base)
    for path, value in overrides.items():
        parent, key = _parent(doc, path, create=True)
        if isinstance(parent, list):
            parent[int(key)] = copy.deepcopy(value)
        else:
            parent[key] = copy.deepcopy(value)
    for path in paths:
        parent, key = _parent(doc, path, create=False)
        try:
            del parent[int(key) if isinstance(parent, list) else key]
        except (KeyError, IndexError) as exc:
            raise KeyError(f"make_*: nothing to drop at {path!r}") from exc
    return doc


def _parent(doc: Any, path: str, *, create: bool) -> tuple[Any, str]:
    *steps, last = path.split(".")
    node = doc
    for step in steps:
        if isinstance(node, list):
            node = node[int(step)]
        elif step in node or not create:
            node = node[step]
        else:
            node = node.setdefault(step, {})
    return node, last


# A customer per locale the templates ship: locale tag and a name in that script.
LOCALES = {
    "it": ("it-IT", "Giulia Rossi"),
    "fr": ("fr-FR", "Élodie Lefèvre-Dupont"),
    "en": ("en-US", "Jordan Avery"),
    "de": ("de-DE", "Jürgen Müßig"),
    "th": ("th-TH", "สมชาย ใจดี"),
    "zh-Hant": ("zh-Hant-TW", "陳美玲"),
    "ar": ("ar-EG", "ليلى حسن"),
    "he": ("he-IL", "נועה לוי"),
}
