"""Bundles for the preview tests: the shipped template, and the same with two locales (a
grid of 30 cells instead of 120, where a test is about the grid's making, not its size)."""

from __future__ import annotations

import dataclasses

import pytest

from renderers.catalog import Catalogs
from renderers.templates import TemplateBundle, load_bundle


@pytest.fixture(scope="session")
def shipped() -> TemplateBundle:
    return load_bundle("bill-explainer")


def with_locales(bundle: TemplateBundle, *locales: str) -> TemplateBundle:
    narration = bundle.narration
    kept = {name: narration.by_locale[name] for name in ("en", *locales)}
    return dataclasses.replace(bundle, narration=Catalogs(narration.directory, kept))


@pytest.fixture(scope="session")
def two_locales(shipped: TemplateBundle) -> TemplateBundle:
    return with_locales(shipped, "ar")


@pytest.fixture(scope="session")
def broken(two_locales: TemplateBundle) -> TemplateBundle:
    """Fails on two samples only: the firm ending's ending scene has a layer whose text
    names a message that does not exist; the thanks sample's greeting `when` divides by 0."""
    spec = two_locales.spec
    scenes = []
    for scene in spec.scenes:
        if scene.id == "ending":
            bad = scene.layers[-1].model_copy(
                update={"text": "{{ t['action.' ~ tone ~ '.missing'] }}", "when": "tone == 'firm'"}
            )
            scene = scene.model_copy(update={"layers": [*scene.layers, bad]})
        if scene.id == "greeting":
            scene = scene.model_copy(update={"when": "tone != 'thanks' or 1 // 0 > 0"})
        scenes.append(scene)
    return dataclasses.replace(two_locales, spec=spec.model_copy(update={"scenes": scenes}))
