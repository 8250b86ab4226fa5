"""The microsite renderer: one static `site/index.html`, CSS inlined, no external requests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError

from renderers.catalog import Catalogs
from renderers.errors import TemplateError
from renderers.microsite.environment import PAGE_TEMPLATE, site_environment
from renderers.outputs import SiteLinks
from renderers.story import Facts


@dataclass(frozen=True)
class SitePage:
    directory: Path  # the microsite template directory
    messages: Catalogs


def _context(facts: Facts, t: dict[str, str], links: SiteLinks, with_video: bool) -> dict[str, Any]:
    return {
        "lang": facts.lang,
        "dir": facts.direction,
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
            {"src": links.video, "poster": links.poster, "captions": links.captions}
            if with_video
            else None
        ),
        "captions_lang": facts.lang,
        "pay_href": links.pay if facts.asks_payment and links.pay else None,
    }


def render_site(
    facts: Facts, page: SitePage, links: SiteLinks, out_dir: Path, *, with_video: bool
) -> Path:
    """Write `out_dir/index.html`; returns its path."""
    t = page.messages.filled(facts.locale, facts.placeholders())
    env = site_environment(page.directory)
    try:
        html = env.get_template(PAGE_TEMPLATE).render(_context(facts, t, links, with_video))
    except (jinja2.TemplateError, SecurityError) as exc:
        line = getattr(exc, "lineno", None)
        raise TemplateError(str(exc), file=page.directory / PAGE_TEMPLATE, line=line) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    index.write_text(html, encoding="utf-8")
    return index
