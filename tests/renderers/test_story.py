"""The tone rules shared by video and microsite, and the formatted facts."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from renderers.story import facts, tone
from tests.paths import EXAMPLES


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def make_bill(
    status: str = "open",
    total: str = "84.20",
    days_overdue: int | None = None,
    segment: str | None = None,
) -> dict[str, Any]:
    bill = copy.deepcopy(example("it_overdue"))
    bill["bill"].update(status=status, total=total)
    bill["bill"].pop("lines")
    bill["bill"].pop("days_overdue")
    if days_overdue is not None:
        bill["bill"]["days_overdue"] = days_overdue
    bill["customer"].pop("segment")
    if segment is not None:
        bill["customer"]["segment"] = segment
    return bill


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"status": "paid"}, "thanks"),
        ({"status": "paid", "total": "-5.00"}, "thanks"),
        ({"status": "open", "total": "-120.00"}, "credit"),
        ({"status": "overdue", "total": "-1.00", "days_overdue": 90}, "credit"),
        ({"status": "overdue", "days_overdue": 45}, "firm"),
        ({"status": "overdue", "days_overdue": 3, "segment": "chronic"}, "firm"),
        ({"status": "overdue", "days_overdue": 30}, "nudge"),
        ({"status": "overdue", "days_overdue": 22, "segment": "forgetful"}, "nudge"),
        ({"status": "overdue"}, "nudge"),
        ({"status": "open"}, "pay"),
    ],
)
def test_tone_branches(kwargs: dict[str, Any], expected: str) -> None:
    assert tone(make_bill(**kwargs)) == expected


def test_examples_tones() -> None:
    assert tone(example("it_overdue")) == "nudge"
    assert tone(example("en_paid")) == "thanks"
    assert tone(example("zh_credit")) == "credit"
    assert tone(example("fr_open")) == "pay"


def test_facts_formatting() -> None:
    it = facts(example("it_overdue"), "en-US")
    assert it.amount == "84,20\u00a0€" and it.due_date == "31 ottobre 2026"
    assert it.lang == "it-IT" and it.direction == "ltr" and it.asks_payment
    zh = facts(example("zh_credit"), "en-US")
    assert zh.total == "-$120.00" and zh.amount == "$120.00" and not zh.asks_payment
    no_locale = example("fr_open")
    del no_locale["customer"]["locale"]
    assert facts(no_locale, "de-DE").lang == "de-DE"  # the template's locale
