"""The shipped sample bills: valid `bill/v1`, synthetic, one per ending, in any locale."""

from __future__ import annotations

import json

import pytest

from app.intake import bill_document, parse_bill
from app.preview import ENDINGS, UnknownSample, sample_bill, template_locales
from app.preview.samples import SAMPLES_DIR
from renderers.story import TONES, tone
from renderers.templates import TemplateBundle


def test_one_sample_per_ending_and_no_other_file() -> None:
    assert ENDINGS == TONES
    assert sorted(p.name for p in SAMPLES_DIR.iterdir()) == sorted(f"{e}.json" for e in ENDINGS)


@pytest.mark.parametrize("ending", ENDINGS)
def test_each_sample_is_a_valid_normalized_bill(ending: str) -> None:
    raw = json.loads((SAMPLES_DIR / f"{ending}.json").read_text("utf-8"))
    assert bill_document(parse_bill(raw)) == raw  # valid, and already in its normal form
    assert raw["customer"]["id"].startswith("SAMPLE-")  # made up, never a customer's
    assert "locale" not in raw["customer"]  # each preview sets its own


@pytest.mark.parametrize("ending", ENDINGS)
def test_each_sample_gets_its_ending_in_every_locale(ending: str, shipped: TemplateBundle) -> None:
    for locale in template_locales(shipped):
        bill = sample_bill(ending, locale)
        assert bill["customer"]["locale"] == locale
        parse_bill(bill)  # the locale tag is one the bill model accepts
        assert tone(bill) == ending


def test_the_firm_sample_is_a_chronic_late_payer_offered_instalments() -> None:
    firm = sample_bill("firm")
    assert firm["customer"]["segment"] == "chronic" and firm["bill"]["days_overdue"] > 30
    assert firm["extra"]["offer"] == "instalments"


def test_a_sample_is_a_fresh_copy_and_unknown_ones_are_refused() -> None:
    sample_bill("pay", "it")["customer"]["name"] = "changed"
    assert sample_bill("pay")["customer"]["name"] != "changed"
    with pytest.raises(UnknownSample, match="pay, nudge"):
        sample_bill("late")


def test_the_template_locales_are_its_narration_files(shipped: TemplateBundle) -> None:
    files = sorted(p.stem for p in (shipped.scenes_dir / "narration").glob("*.yaml"))
    assert template_locales(shipped) == files
