"""A sample's microsite: the real page, self-contained, recording nothing."""

from __future__ import annotations

import pytest

from app.preview import UnknownSample, site_preview
from renderers.templates import TemplateBundle


def test_the_page_is_the_samples_in_its_locale(shipped: TemplateBundle) -> None:
    html = site_preview(shipped, "firm", "it")
    assert '<html lang="it"' in html and "Aleksandra Nowak-Kowalczyk" in html
    assert 'src="video.mp4"' in html and "poster.jpg" in html  # relative: a route serves them
    assert "https://pay.example.com/i/SAMPLE-2026-09-0003" in html  # the made-up pay link
    assert "/events" not in html and "<form" not in html  # no beacons, no forms: no events
    assert "<style" in html and 'rel="stylesheet"' not in html  # the CSS is inlined
    rtl = site_preview(shipped, "credit", "ar")
    assert 'dir="rtl"' in rtl


def test_a_locale_the_template_lacks_is_refused(shipped: TemplateBundle) -> None:
    with pytest.raises(UnknownSample, match="no narration"):
        site_preview(shipped, "pay", "ja")
