"""The microsite page: escaped customer data, one set of formatted facts, no outside requests."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from renderers import SiteLinks, local_links, render
from renderers.errors import RenderError
from renderers.formatting import format_month
from renderers.microsite import SitePage, render_site
from renderers.story import facts
from renderers.templates import TemplateBundle, load_bundle
from tests.paths import EXAMPLES


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def bundle() -> TemplateBundle:
    return load_bundle("bill-explainer")


def page(bundle: TemplateBundle, bill: dict[str, Any], tmp: Path, **kw: Any) -> str:
    result = render(bill, bundle, ["microsite"], tmp, **kw)
    assert result.site == tmp / "site" / "index.html" and result.video is None
    assert result.template_version.startswith("bill-explainer@")
    return result.site.read_text(encoding="utf-8")


def page_with_video(
    bundle: TemplateBundle, bill: dict[str, Any], tmp: Path, links: SiteLinks | None = None
) -> str:
    """The page as `render` writes it alongside a video (the video itself is not encoded)."""
    site = SitePage(bundle.microsite_dir, bundle.messages)
    index = render_site(
        facts(bill, bundle.locale), site, links or local_links(bill), tmp, with_video=True
    )
    return index.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "{{ 7*7 }}", "{% raw %}x"])
def test_names_render_literally(bundle: TemplateBundle, tmp_path: Path, name: str) -> None:
    bill = copy.deepcopy(example("it_overdue"))
    bill["customer"]["name"] = name
    bill["tips"][0]["title"] = name
    html = page(bundle, bill, tmp_path)
    assert html.count("<script>") == 1 and "alert(1)</script>" not in html  # ours only
    assert ">49<" not in html and " 49<" not in html
    escaped = name.replace("<", "&lt;").replace(">", "&gt;")
    assert f"<h1>Ciao {escaped}</h1>" in html
    assert f"<h3><bdi>{escaped}</bdi></h3>" in html


def test_content_and_head(bundle: TemplateBundle, tmp_path: Path) -> None:
    html = page(bundle, example("it_overdue"), tmp_path)
    assert '<html lang="it-IT" dir="ltr">' in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "84,20\u00a0€" in html and "31 ottobre 2026" in html
    assert "Trasporto e gestione del contatore" in html
    assert 'class="status status-nudge"' in html
    assert '<a class="pay" href="https://pay.example.com/i/F-2026-11-000123"' in html
    assert "<video" not in html  # no video asked for: none shown


def test_no_outside_requests(bundle: TemplateBundle, tmp_path: Path) -> None:
    html = page_with_video(bundle, example("fr_open"), tmp_path)
    urls = re.findall(r"""(?:src|href|poster)=["']([^"']+)""", html)
    assert sorted(urls) == [
        "../captions.vtt",
        "../poster.jpg",
        "../video.mp4",
        "data:,",  # the empty favicon: nothing is fetched
        "https://pay.example.com/i/FA-2026-1142",
    ]
    assert re.findall(r"<link[^>]*>", html) == ['<link rel="icon" href="data:,">']
    assert "@import" not in html and "url(" not in html
    assert "<style>" in html


def test_video_and_tracked_links(bundle: TemplateBundle, tmp_path: Path) -> None:
    links = SiteLinks(
        video="T/video.mp4", poster="T/poster.jpg", captions="T/captions.vtt", pay="T/pay"
    )
    html = page_with_video(bundle, example("th_open"), tmp_path, links)
    assert '<video controls playsinline preload="none" poster="T/poster.jpg"' in html
    assert (
        '<track kind="captions" srclang="th-TH"' in html and 'src="T/captions.vtt" default>' in html
    )
    assert '<a class="pay" href="T/pay"' in html
    assert "฿2,450.00" in html


@pytest.mark.parametrize("name", ["en_paid", "zh_credit"])
def test_no_pay_button_without_a_call_to_pay(
    bundle: TemplateBundle, tmp_path: Path, name: str
) -> None:
    bill = copy.deepcopy(example(name))
    bill["payment"] = {"url": "https://pay.example.com/i/x"}
    links = SiteLinks(video="v", poster="p", captions="c", pay="T/pay")
    html = page(bundle, bill, tmp_path, links=links)
    assert 'class="pay"' not in html and "T/pay" not in html and "pay.example.com" not in html


def test_firm_offers_instalments_and_pay_needs_a_link(
    bundle: TemplateBundle, tmp_path: Path
) -> None:
    bill = copy.deepcopy(example("it_overdue"))
    bill["bill"]["days_overdue"] = 45
    del bill["payment"]
    html = page(bundle, bill, tmp_path)
    assert "status-firm" in html and "rateizzazione" in html
    assert 'class="pay"' not in html  # no payment.url, no tracked link: no button


def test_locales_fall_back_to_english(bundle: TemplateBundle, tmp_path: Path) -> None:
    bill = copy.deepcopy(example("fr_open"))
    bill["customer"]["locale"] = "pt-BR"
    html = page(bundle, bill, tmp_path)
    # The words are English, so the page says so; money and dates stay Brazilian.
    assert '<html lang="en" dir="ltr">' in html and "Hello Élodie" in html
    assert "R$" not in html and "€\xa0126,45" in html  # the bill's currency, pt-BR style


def test_a_right_to_left_locale_without_catalog_shows_english_left_to_right(
    bundle: TemplateBundle, tmp_path: Path
) -> None:
    bill = copy.deepcopy(example("fr_open"))
    bill["customer"]["locale"] = "fa-IR"
    html = page(bundle, bill, tmp_path)
    assert '<html lang="en" dir="ltr">' in html and "Hello Élodie" in html


def test_rtl_page(bundle: TemplateBundle, tmp_path: Path) -> None:
    bill = copy.deepcopy(example("fr_open"))
    bill["customer"]["locale"] = "he-IL"
    html = page(bundle, bill, tmp_path)
    assert '<html lang="he-IL" dir="rtl">' in html and "שלום" in html


def test_unknown_output_kind(bundle: TemplateBundle, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="unknown output kinds"):
        render(example("fr_open"), bundle, ["pdf"], tmp_path)


def test_month_names_stay_in_their_locale() -> None:
    """Hebrew first, then the others: each keeps its own month names (see format_month)."""
    order = ["he-IL", "th-TH", "de-DE", "fr-FR", "zh-Hant-TW", "ar-EG", "it-IT", "en-GB"]
    shown = {tag: format_month("2026-10", tag) for tag in order}
    assert shown["th-TH"] == "ต.ค." and shown["de-DE"] == "Okt."
    assert shown["fr-FR"] == "oct." and shown["it-IT"] == "ott" and shown["en-GB"] == "Oct"
    assert shown["zh-Hant-TW"] == "10月" and shown["he-IL"] == "\u05d0\u05d5\u05e7\u05f3"  # geresh
    assert format_month("2026-10", "th-TH", "long") == "ตุลาคม 2026"
    assert format_month("2026-10", "zh-Hant-TW", "long") == "2026年10月"
    with pytest.raises(RenderError, match="ISO month"):
        format_month("2026/10", "en")
