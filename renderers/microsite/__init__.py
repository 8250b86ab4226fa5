"""The microsite renderer: one static `site/index.html`, CSS and SVG inlined, nothing external."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from markupsafe import Markup

from renderers.catalog import FALLBACK_LOCALE, Catalogs, locale_chain
from renderers.charts import consumption_chart
from renderers.errors import TemplateError
from renderers.formatting import text_direction
from renderers.microsite.chart import chart_view
from renderers.microsite.environment import PAGE_TEMPLATE, site_environment
from renderers.microsite.player import player_view
from renderers.microsite.script import PLAYER_MARKUP, SCRIPT_MARKUP
from renderers.outputs import SiteLinks
from renderers.qr import epc_payload, epc_svg
from renderers.story import Facts
from renderers.timeline import Timeline

# Calls to action a page offers; the service accepts exactly these names.
CTA_NAMES = ("instalments", "promise_to_pay", "paperless", "direct_debit", "contact")
PAY_ONLY_CTAS = frozenset({"instalments", "promise_to_pay"})  # only while there is money due
# Offered only by templates whose messages have them (versions made before they existed
# render as they did).
OPTIONAL_CTAS = frozenset({"promise_to_pay"})
SERVED_VIDEO = "/video.mp4"


@dataclass(frozen=True)
class SitePage:
    directory: Path  # the microsite template directory
    messages: Catalogs


def served_base(links: SiteLinks) -> str | None:
    """'TOKEN' when the page is served under /r/ (links 'TOKEN/video.mp4'); None on disk.

    Forms and beacons need the service, so a page opened from disk shows none.
    """
    video = links.video
    if not video.endswith(SERVED_VIDEO) or video.startswith(("../", "/")) or ":" in video:
        return None
    return video.removesuffix(SERVED_VIDEO)


def page_language(facts: Facts, messages: Catalogs) -> tuple[str, str]:
    """`lang` and `dir` for <html>: the language the page's words are in.

    A locale without a catalog is shown in the fallback catalog's words (English), so the
    page says so, for screen readers and for the layout direction; its money and dates keep
    the customer's locale.
    """
    if any(name in messages.by_locale for name in locale_chain(facts.locale)):
        return facts.lang, facts.direction
    return FALLBACK_LOCALE, text_direction(FALLBACK_LOCALE)


def _group_iban(iban: str) -> str:
    compact = "".join(iban.split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _bank(bill: Mapping[str, Any], facts: Facts, t: dict[str, str]) -> dict[str, Any] | None:
    """The bank-transfer panel: only for bills still to pay that carry `payment.sepa`."""
    payment = bill.get("payment")
    sepa = payment.get("sepa") if isinstance(payment, Mapping) else None
    if not facts.asks_payment or not isinstance(sepa, Mapping):
        return None
    payload = epc_payload(bill)
    iban = str(sepa.get("iban", ""))
    return {
        "iban": _group_iban(iban),
        "iban_copy": "".join(iban.split()).upper(),
        "beneficiary": str(sepa.get("beneficiary", "")),
        "reference": str(sepa.get("reference", "")) or facts.number,
        # segno's markup with our escaped title: generated code, not customer text.
        "qr": Markup(epc_svg(payload, title=t["bank.qr_title"])) if payload else None,  # noqa: S704
    }


def _context(
    facts: Facts,
    page: SitePage,
    links: SiteLinks,
    with_video: bool,
    bill: Mapping[str, Any] | None,
    timeline: Timeline | None,
) -> dict[str, Any]:
    base = served_base(links)
    chart = consumption_chart(bill) if bill is not None else None
    t = page.messages.filled(facts.locale, facts.placeholders())
    lang, direction = page_language(facts, page.messages)
    pay_href = links.pay if facts.asks_payment and links.pay else None
    ctas = [
        {"name": n, "action": f"{base}/cta/{n}"}
        for n in CTA_NAMES
        if base
        and (facts.asks_payment or n not in PAY_ONLY_CTAS)
        and (n not in OPTIONAL_CTAS or f"cta.{n}" in t)
    ]
    player = (
        player_view(timeline, facts, links, t, pay_href=pay_href,
                    cta_action={c["name"]: c["action"] for c in ctas})
        if with_video and timeline is not None
        else None
    )  # fmt: skip
    return {
        "lang": lang,
        "dir": direction,
        "tone": facts.tone,
        "t": t,
        "name": facts.name,
        "number": facts.number,
        "total": facts.total,
        "amount": facts.amount,
        "due_date": facts.due_date,
        "issued_on": facts.issued_on,
        "period": facts.period,
        "lines": [
            {"label": line.label, "amount": line.amount, "negative": line.value < 0}
            for line in facts.lines
        ],
        "tips": [{"title": tip.title, "body": tip.body} for tip in facts.tips],
        "video": (
            {
                "src": links.video,
                "poster": links.poster,
                "captions": links.captions,
                "stream": links.stream,
            }
            if with_video
            else None
        ),
        "captions_lang": facts.lang,
        "pay_href": pay_href,
        "chart": (
            chart_view(chart, facts.locale, rtl=facts.direction == "rtl")
            if chart is not None
            else None
        ),
        "bank": _bank(bill, facts, t) if bill is not None else None,
        "events_href": f"{base}/events" if base and with_video else None,
        "ctas": ctas,
        "player": player,
        "script": SCRIPT_MARKUP,
        "player_script": PLAYER_MARKUP,
    }


def render_site(
    facts: Facts,
    page: SitePage,
    links: SiteLinks,
    out_dir: Path,
    *,
    with_video: bool,
    bill: Mapping[str, Any] | None = None,
    timeline: Timeline | None = None,
) -> Path:
    """Write `out_dir/index.html`; returns its path. `bill` adds the chart and bank panel,
    `timeline` (the video's) the player's chapters and calls to action."""
    html = render_html(facts, page, links, with_video=with_video, bill=bill, timeline=timeline)
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    index.write_text(html, encoding="utf-8")
    return index


def render_html(
    facts: Facts,
    page: SitePage,
    links: SiteLinks,
    *,
    with_video: bool,
    bill: Mapping[str, Any] | None = None,
    timeline: Timeline | None = None,
) -> str:
    env = site_environment(page.directory)
    try:
        template = env.get_template(PAGE_TEMPLATE)
        return template.render(_context(facts, page, links, with_video, bill, timeline))
    except (jinja2.TemplateError, SecurityError) as exc:
        line = getattr(exc, "lineno", None)
        raise TemplateError(str(exc), file=page.directory / PAGE_TEMPLATE, line=line) from exc
