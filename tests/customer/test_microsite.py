"""The microsite: content per state, the template lint, and the routes of its forms and beacons."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from flask.testing import FlaskClient
from sqlalchemy import select

from app.customer.pages import MICROSITE_CSP
from app.delivery.links import site_links
from app.infra.database import Event, Render
from app.infra.services import Services
from app.rendering.job import run_render_with
from renderers import SiteLinks
from renderers.catalog import PLACEHOLDER
from renderers.errors import TemplateError
from renderers.microsite import CTA_NAMES, SitePage, render_html, served_base
from renderers.microsite.messages import (
    REQUIRED_MESSAGES,
    entries,
    load_site_messages,
    read_catalog,
)
from renderers.microsite.script import (
    PAGE_SCRIPT,
    PLAYER_HASH_SOURCE,
    RETIRED_HASH_SOURCES,
    SCRIPT_HASH_SOURCE,
)
from renderers.story import facts
from renderers.templates import TemplateBundle, load_bundle
from tests.factories import make_render_request
from tests.paths import REPO_ROOT

TEMPLATES = REPO_ROOT / "microsite_templates"
SERVED = SiteLinks(video="TOK/video.mp4", poster="TOK/poster.jpg", captions="TOK/captions.vtt",
                   pay="TOK/pay")  # fmt: skip
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REPO_ROOT / "examples" / f"{name}.json").read_text("utf-8"))
    return data


@pytest.fixture(scope="module")
def bundle() -> TemplateBundle:
    return load_bundle("bill-explainer")


def html_of(bundle: TemplateBundle, bill: dict[str, Any], links: SiteLinks = SERVED) -> str:
    page = SitePage(bundle.microsite_dir, bundle.messages)
    return render_html(facts(bill, bundle.locale), page, links, with_video=True, bill=bill)


# --- the template lint -----------------------------------------------------------------------

UNSAFE_FILTER = re.compile(r"\|\s*(safe|attr)\b|autoescape\s+false", re.IGNORECASE)


def test_templates_never_use_safe_or_attr() -> None:
    files = [p for p in TEMPLATES.rglob("*") if p.is_file() and p.suffix in (".j2", ".html")]
    assert files, "no templates found"
    offenders = [
        f"{p.relative_to(REPO_ROOT)}:{n}"
        for p in files
        for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
        if UNSAFE_FILTER.search(line)
    ]
    assert offenders == [], "customer text must stay escaped: no |safe or |attr in templates"


def test_the_lint_catches_both_filters() -> None:
    assert UNSAFE_FILTER.search("{{ name|safe }}") and UNSAFE_FILTER.search("{{ x | attr('y') }}")
    assert UNSAFE_FILTER.search("{% autoescape false %}")
    assert not UNSAFE_FILTER.search("{{ safety }}")


# --- the gettext catalogs --------------------------------------------------------------------

MESSAGES = TEMPLATES / "bill-explainer" / "messages"
SHIPPED_LOCALES = {"en", "it", "fr", "de", "th", "zh-Hant", "ar", "he"}


def test_every_locale_translates_every_msgid() -> None:
    source = {(m.context, m.id) for m in entries(read_catalog(MESSAGES / "messages.pot"))}
    assert {key for key, _ in source} >= set(REQUIRED_MESSAGES)
    assert {p.stem for p in MESSAGES.glob("*.po")} == SHIPPED_LOCALES
    for po in sorted(MESSAGES.glob("*.po")):
        found = entries(read_catalog(po, po.stem.replace("-", "_")))
        assert {(m.context, m.id) for m in found} == source, po.name
        untranslated = [m.context for m in found if not m.string or m.fuzzy]
        assert untranslated == [], f"{po.name}: {untranslated}"
        fields_differ = [
            m.context
            for m in found
            if sorted(PLACEHOLDER.findall(str(m.id))) != sorted(PLACEHOLDER.findall(m.string))
        ]
        assert fields_differ == [], f"{po.name}: placeholders differ from the msgid"


def test_catalog_errors_name_file_and_line(tmp_path: Path) -> None:
    copy_dir = tmp_path / "messages"
    shutil.copytree(MESSAGES, copy_dir)
    it = copy_dir / "it.po"
    original = it.read_text("utf-8")
    it.write_text(original.replace('msgid "Hello {name}"', 'msgid "Hi {name}"'), "utf-8")
    with pytest.raises(TemplateError, match=r"it\.po:\d+: greeting: msgid differs"):
        load_site_messages(copy_dir)
    it.write_text(original + '\nmsgctxt "x"\nmsgid "broken\n', "utf-8")
    with pytest.raises(TemplateError, match=r"it\.po:\d+: invalid gettext catalog"):
        load_site_messages(copy_dir)


def test_fuzzy_or_empty_translations_fall_back_to_english(tmp_path: Path) -> None:
    copy_dir = tmp_path / "messages"
    shutil.copytree(MESSAGES, copy_dir)
    it = copy_dir / "it.po"
    text = it.read_text("utf-8").replace('msgstr "Ciao {name}"', 'msgstr ""')
    it.write_text(text, "utf-8")
    chosen = load_site_messages(copy_dir).for_locale(Locale.parse("it_IT"))
    assert chosen["greeting"] == "Hello {name}" and chosen["footer"].startswith("Bolletta")


# --- content per state -----------------------------------------------------------------------


def test_open_bill_has_everything(bundle: TemplateBundle) -> None:
    html = html_of(bundle, example("fr_open"))
    assert '<html lang="fr-FR" dir="ltr">' in html
    assert 'class="pay" href="TOK/pay"' in html
    assert 'class="billreel-qr"' in html and 'role="img"' in html
    assert "FR14 2004 1010 0505 0001 3M02 606" in html  # grouped for reading
    assert 'data-copy="FR1420041010050500013M02606"' in html  # compact for pasting
    assert '<track kind="captions" srclang="fr-FR"' in html and 'poster="TOK/poster.jpg"' in html
    assert 'data-events="TOK/events"' in html
    for name in CTA_NAMES:
        assert f'action="TOK/cta/{name}"' in html
        assert f'id="done-{name}"' in html
    # chart: bars hidden from screen readers, the same numbers in a table
    assert 'aria-hidden="true" focusable="false" class="bars"' in html
    assert "octobre 2026" in html and 'class="peer"' in html


@pytest.mark.parametrize(("name", "tone"), [("en_paid", "thanks"), ("zh_credit", "credit")])
def test_paid_and_credit_ask_for_nothing(bundle: TemplateBundle, name: str, tone: str) -> None:
    html = html_of(bundle, example(name))
    assert f"status-{tone}" in html
    assert 'class="pay"' not in html and "billreel-qr" not in html and 'class="bank"' not in html
    assert "/cta/instalments" not in html and "/cta/contact" in html


def test_firm_offers_instalments(bundle: TemplateBundle) -> None:
    bill = example("it_overdue")
    bill["customer"]["segment"] = "chronic"
    html = html_of(bundle, bill)
    assert "status-firm" in html and 'class="offer"' in html and "/cta/instalments" in html


def test_from_disk_no_forms_and_no_beacons(bundle: TemplateBundle) -> None:
    bill = example("it_overdue")
    links = SiteLinks("../video.mp4", "../poster.jpg", "../captions.vtt", "https://pay.example.com")
    assert served_base(links) is None and served_base(SERVED) == "TOK"
    html = html_of(bundle, bill, links)
    assert "<form" not in html and 'data-events="' not in html
    assert 'src="../video.mp4"' in html


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "{{ 7*7 }}"])
def test_customer_text_is_escaped_everywhere(bundle: TemplateBundle, name: str) -> None:
    bill = copy.deepcopy(example("it_overdue"))
    bill["customer"]["name"] = name
    bill["payment"]["sepa"]["beneficiary"] = name
    bill["bill"]["lines"][0]["label"] = name
    html = html_of(bundle, bill)
    assert "<script>alert" not in html and ">49<" not in html
    assert html.count("<script>") == 1  # ours, and only ours


@pytest.mark.parametrize(
    ("locale", "lang", "direction", "word"),
    [
        ("it-IT", "it-IT", "ltr", "Paga con bonifico"),
        ("fr-FR", "fr-FR", "ltr", "Payer par virement"),
        ("en-GB", "en-GB", "ltr", "Pay by bank transfer"),
        ("de-DE", "de-DE", "ltr", "Per Überweisung bezahlen"),
        ("th-TH", "th-TH", "ltr", "ชำระด้วยการโอนเงิน"),
        ("zh-Hant-TW", "zh-Hant-TW", "ltr", "以銀行轉帳付款"),
        ("he-IL", "he-IL", "rtl", "תשלום בהעברה בנקאית"),
        ("ar-EG", "ar-EG", "rtl", "الدفع بتحويل مصرفي"),
    ],
)
def test_locales(bundle: TemplateBundle, locale: str, lang: str, direction: str, word: str) -> None:
    bill = example("it_overdue")
    bill["customer"]["locale"] = locale
    html = html_of(bundle, bill)
    assert f'<html lang="{lang}" dir="{direction}">' in html
    assert word in html


def test_the_policy_allows_exactly_our_script(bundle: TemplateBundle) -> None:
    html = html_of(bundle, example("it_overdue"))
    assert f"<script>{PAGE_SCRIPT}</script>" in html
    # the player's script (pages with a video's timeline) is the other inline one allowed;
    # files only from this origin (hls.js for a video made on open), nothing from elsewhere
    allowed = " ".join([SCRIPT_HASH_SOURCE, PLAYER_HASH_SOURCE, *RETIRED_HASH_SOURCES])
    assert f"script-src 'self' {allowed};" in MICROSITE_CSP
    # pages made by earlier releases keep their inline scripts: their hashes stay allowed
    assert {SCRIPT_HASH_SOURCE, PLAYER_HASH_SOURCE}.isdisjoint(RETIRED_HASH_SOURCES)
    assert "connect-src 'self'" in MICROSITE_CSP and "form-action 'self'" in MICROSITE_CSP
    assert "media-src 'self' blob:;" in MICROSITE_CSP and "worker-src 'none'" in MICROSITE_CSP


def test_no_outside_urls(bundle: TemplateBundle) -> None:
    html = html_of(bundle, example("it_overdue"))
    urls = re.findall(r"""(?:src|href|poster|action|data-events)=["']([^"']+)""", html)
    # The empty `data:,` favicon keeps browsers from asking for /favicon.ico; it fetches nothing.
    assert urls.count("data:,") == 1
    urls.remove("data:,")
    assert urls and all(u.startswith("TOK/") for u in urls), urls  # relative: our own service
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")


# --- the routes ------------------------------------------------------------------------------


@pytest.fixture
def live(client: FlaskClient, auth: dict[str, str], services: Services) -> tuple[str, str]:
    request = make_render_request()
    request["outputs"] = ["microsite"]
    response = client.post("/v1/renders", json=request, headers=auth)
    assert response.status_code == 202
    render_id: str = response.get_json()["id"]
    assert run_render_with(services, render_id) == "done"
    with services.db.session() as session:
        render = session.get(Render, render_id)
        assert render is not None
        return render_id, render.token


def events(services: Services, render_id: str) -> list[tuple[str, str | None]]:
    with services.db.session() as session:
        rows = session.execute(
            select(Event.type, Event.name).where(Event.render_id == render_id).order_by(Event.id)
        )
        return [(t, n) for t, n in rows]


def test_cta_records_and_redirects_to_its_confirmation(
    client: FlaskClient, services: Services, live: tuple[str, str]
) -> None:
    render_id, token = live
    response = client.post(f"/r/{token}/cta/contact", headers=SAME_ORIGIN)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/r/{token}#done-contact")
    assert events(services, render_id) == [("cta", "contact")]


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {},
    ],
)
def test_cta_refuses_other_origins(
    client: FlaskClient, services: Services, live: tuple[str, str], headers: dict[str, str]
) -> None:
    render_id, token = live
    assert client.post(f"/r/{token}/cta/contact", headers=headers).status_code == 403
    assert events(services, render_id) == []


def test_cta_accepts_a_matching_origin(client: FlaskClient, live: tuple[str, str]) -> None:
    _, token = live
    origin = {"Origin": "http://localhost"}
    assert client.post(f"/r/{token}/cta/paperless", headers=origin).status_code == 303


def test_cta_names_and_tokens_are_checked(client: FlaskClient, live: tuple[str, str]) -> None:
    _, token = live
    assert client.post(f"/r/{token}/cta/unsubscribe_all", headers=SAME_ORIGIN).status_code == 404
    assert client.post("/r/" + "x" * 32 + "/cta/contact", headers=SAME_ORIGIN).status_code == 404
    assert client.get(f"/r/{token}/cta/contact").status_code in (404, 405)


def test_video_beacons_are_allow_listed(
    client: FlaskClient, services: Services, live: tuple[str, str]
) -> None:
    render_id, token = live
    url = f"/r/{token}/events"
    for data in ({"type": "video_started"}, {"type": "video_progress", "name": "50"}):
        assert client.post(url, data=data, headers=SAME_ORIGIN).status_code == 204
    for bad in (
        {"type": "paid"},
        {"type": "video_progress", "name": "33"},
        {"type": "video_started", "name": "x"},
        {},
    ):
        assert client.post(url, data=bad, headers=SAME_ORIGIN).status_code == 400
    assert client.post(url, data={"type": "video_started"}).status_code == 403
    assert events(services, render_id) == [("video_started", None), ("video_progress", "50")]


def test_served_links_match_the_renderer() -> None:
    bill = make_render_request()["data"]
    assert served_base(site_links("T0K", bill)) == "T0K"
