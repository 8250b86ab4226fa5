"""A worker warms up before it forks a horse per render: the bundles and what their locales
need are loaded once, and renders get the very same bundle objects."""

from __future__ import annotations

import shutil
from pathlib import Path

from renderers.templates import load_bundle
from renderers.warm import warm_up

ROOT = Path(__file__).resolve().parents[1]


def test_warm_up_loads_every_bundle_once_for_the_renders() -> None:
    bundles = warm_up()
    assert [b.name for b in bundles] == ["bill-explainer"]
    assert load_bundle("bill-explainer") is bundles[0]


def test_a_broken_bundle_does_not_stop_the_worker(tmp_path: Path) -> None:
    """Its renders fail with the template's error; the worker still starts for the others."""
    for part in ("scenes", "microsite_templates"):
        shutil.copytree(ROOT / part / "bill-explainer", tmp_path / part / "bill-explainer")
        shutil.copytree(ROOT / part / "bill-explainer", tmp_path / part / "broken")
    spec = tmp_path / "scenes" / "broken" / "scenes.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("name: bill-explainer", "name: x"))
    assert [b.name for b in warm_up(root=tmp_path)] == ["bill-explainer"]
