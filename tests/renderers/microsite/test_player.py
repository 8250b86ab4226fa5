"""The player's part of the page: chapters, the buttons over the video, the bill's lines as
links into it; only on a page with the video's timeline, and only buttons that can work."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from renderers import SiteLinks, local_links
from renderers.microsite import SitePage, render_html
from renderers.microsite.script import PLAYER_SCRIPT
from renderers.story import facts
from renderers.templates import TemplateBundle, load_bundle
from renderers.timeline import Timeline
from renderers.video.chapters import video_timeline
from renderers.video.formats import get_format
from tests.paths import EXAMPLES
from tests.videokit import plan

SERVED = SiteLinks(video="TOK/video.mp4", poster="TOK/poster.jpg", captions="TOK/captions.vtt",
                   pay="TOK/pay", chapters="TOK/chapters.vtt")  # fmt: skip


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def firm() -> dict[str, Any]:
    bill = example("it_overdue")
    bill["customer"]["segment"] = "chronic"
    return bill


@pytest.fixture(scope="module")
def bundle() -> TemplateBundle:
    return load_bundle("bill-explainer")


def html(
    bundle: TemplateBundle, bill: dict[str, Any], tmp: Path, links: SiteLinks = SERVED
) -> tuple[str, Timeline]:
    the_facts = facts(bill, bundle.locale)
    narration = bundle.narration.filled(the_facts.locale, the_facts.placeholders())
    timeline = video_timeline(plan(bill, bundle, tmp), narration, get_format("16:9"),
                              payable=the_facts.asks_payment)  # fmt: skip
    page = SitePage(bundle.microsite_dir, bundle.messages)
    return render_html(the_facts, page, links, with_video=True, bill=bill,
                       timeline=timeline), timeline  # fmt: skip


def test_chapters_buttons_and_lines_come_from_the_timeline(
    bundle: TemplateBundle, tmp_path: Path
) -> None:
    page, timeline = html(bundle, firm(), tmp_path)
    assert '<track kind="chapters" srclang="it-IT" label="Capitoli" src="TOK/chapters.vtt">' in page
    seeks = re.findall(r'<a href="TOK/video\.mp4#t=([\d.]+)" data-seek="([\d.]+)">', page)
    assert [float(a) for a, b in seeks if a == b] == [c.start for c in timeline.chapters]
    assert "<bdi>Cosa fare ora</bdi>" in page
    buttons = re.findall(r'class="cta cta-(\w+)"[^>]*data-start="([\d.]+)" data-end="([\d.]+)"'
                         r' style="([^"]+)" hidden>', page)  # fmt: skip
    assert [b[0] for b in buttons] == ["pay", "instalments", "contact"]
    for (_, start, end, style), cta in zip(buttons, timeline.ctas, strict=True):
        assert (float(start), float(end)) == (pytest.approx(cta.start, abs=1e-3), cta.end)
        assert style == f"left:{round(cta.box[0] * 100)}%;top:3%;width:30%;height:16%"
    assert '<a class="cta cta-pay" href="TOK/pay"' in page  # the tracked pay link
    assert 'action="TOK/cta/instalments"' in page and ">Chiedi una rateizzazione</button>" in page
    assert 'role="group" aria-label="Cosa puoi fare ora" aria-live="polite"' in page
    lines = re.findall(r'<td><a href="TOK/video\.mp4#t=([\d.]+)"', page)
    assert lines and {float(x) for x in lines} == {timeline.lines_at}


@pytest.mark.parametrize("name", ["en_paid", "zh_credit"])
def test_a_bill_that_asks_nothing_has_no_button(
    bundle: TemplateBundle, tmp_path: Path, name: str
) -> None:
    page, _ = html(bundle, example(name), tmp_path)
    assert 'class="overlay"' not in page and "cta cta-" not in page
    assert 'class="chapters"' in page


def test_from_disk_only_the_pay_button_which_needs_no_service(
    bundle: TemplateBundle, tmp_path: Path
) -> None:
    bill = firm()
    page, _ = html(bundle, bill, tmp_path, local_links(bill))
    assert re.findall(r'class="cta cta-(\w+)"', page) == ["pay"]
    assert f'<a class="cta cta-pay" href="{bill["payment"]["url"]}"' in page
    assert 'src="../chapters.vtt"' in page


def test_the_player_script_comes_with_the_player_only(
    bundle: TemplateBundle, tmp_path: Path
) -> None:
    page, _ = html(bundle, firm(), tmp_path)
    assert f"<script>{PLAYER_SCRIPT}</script>" in page
    assert "cookie" not in PLAYER_SCRIPT and "localStorage" in PLAYER_SCRIPT
    without = SitePage(bundle.microsite_dir, bundle.messages)
    plain = render_html(facts(firm(), bundle.locale), without, SERVED, with_video=False)
    assert PLAYER_SCRIPT not in plain and ".overlay" not in plain  # a page without a video
