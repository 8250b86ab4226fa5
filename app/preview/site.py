"""A sample's microsite, rendered by the real microsite renderer.

The page inlines its CSS, SVG charts and QR code; it refers only to the sample's poster,
video and captions, by the relative names in `PREVIEW_LINKS`, which a route serving the
page at `.../ENDING/LOCALE/` can answer (the poster from `stills.poster`). Served this way
the page has no forms or beacons (they need a render's token), so a preview records no
event.
"""

from __future__ import annotations

from app.preview.samples import check_locale, sample_bill
from renderers.microsite import SitePage, render_html
from renderers.outputs import SiteLinks
from renderers.story import facts as bill_facts
from renderers.templates import TemplateBundle

PREVIEW_LINKS = SiteLinks(video="video.mp4", poster="poster.jpg", captions="captions.vtt",
                          pay=None)  # fmt: skip


def site_html(
    bundle: TemplateBundle, ending: str, locale: str, links: SiteLinks = PREVIEW_LINKS
) -> str:
    """The microsite page of the sample `ending` in `locale`, as one HTML document. The
    pay button, when the page has one, goes to the sample's own (made-up) payment link."""
    check_locale(bundle, locale)
    bill = sample_bill(ending, locale)
    facts = bill_facts(bill, bundle.locale)
    if links.pay is None:
        payment = bill.get("payment") or {}
        links = SiteLinks(links.video, links.poster, links.captions, payment.get("url"))
    page = SitePage(bundle.microsite_dir, bundle.messages)
    return render_html(facts, page, links, with_video=True, bill=bill)


site_preview = site_html  # the name the studio's routes use
