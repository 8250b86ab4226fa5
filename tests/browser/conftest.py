"""One headless Chromium per test module, for every page a person sees (microsite, player,
studio); autoplay is allowed so a test can play a video without a click."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.realparts import CHROMIUM_ARGS, missing


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            yield chromium
        finally:
            chromium.close()
