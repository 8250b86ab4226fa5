"""Template bundles load whole, and every problem names its file, line and path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from renderers.errors import TemplateError, TemplateNotFound
from renderers.templates import load_bundle, template_names
from tests.paths import REPO_ROOT

NAME = "bill-explainer"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the real bundle, to break."""
    for part in ("scenes", "microsite_templates"):
        shutil.copytree(REPO_ROOT / part / NAME, tmp_path / part / NAME)
    return tmp_path


def test_real_bundle_loads() -> None:
    bundle = load_bundle(NAME)
    assert bundle.versioned_name == f"bill-explainer@{bundle.spec.version}"
    assert bundle.spec.version >= 2  # 2: scenes of layers (the story's cards before)
    assert NAME in template_names()
    for catalogs in (bundle.narration, bundle.messages):
        assert {"en", "it", "fr", "de", "th", "zh-Hant", "ar", "he"} <= set(catalogs.locales)


@pytest.mark.parametrize("name", ["nope", "../scenes", "", "Bill-Explainer"])
def test_unknown_names(name: str) -> None:
    with pytest.raises(TemplateNotFound):
        load_bundle(name)


def _replace_once(file: Path, old: str, new: str) -> str:
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    file.write_text(text.replace(old, new), encoding="utf-8")
    return text


def test_bad_scene_value_names_file_line_and_path(root: Path) -> None:
    spec = root / "scenes" / NAME / "scenes.yaml"
    text = _replace_once(spec, "duration: 4.5\n", "duration: 99\n")
    with pytest.raises(TemplateError) as caught:
        load_bundle(NAME, root)
    err = caught.value
    assert err.file == str(spec) and err.path == "scenes[2].duration"
    assert err.line == text.splitlines().index("    duration: 4.5") + 1
    assert "scenes.yaml:" in str(err) and "less than or equal to 20" in str(err)


def test_unknown_layer_type(root: Path) -> None:
    spec = root / "scenes" / NAME / "scenes.yaml"
    _replace_once(spec, "type: breakdown\n", "type: explode\n")
    with pytest.raises(TemplateError, match=r"scenes\.yaml:\d+: scenes\[3\]\.layers\[3\]: "):
        load_bundle(NAME, root)


def test_yaml_syntax_error(root: Path) -> None:
    spec = root / "scenes" / NAME / "scenes.yaml"
    spec.write_text("version: 1\nlocale: [en\n")
    with pytest.raises(TemplateError, match=r"scenes\.yaml:\d+: invalid YAML"):
        load_bundle(NAME, root)


def test_unknown_placeholder_in_catalog(root: Path) -> None:
    catalog = root / "scenes" / NAME / "narration" / "it.yaml"
    text = catalog.read_text(encoding="utf-8").replace("Ciao {name}", "Ciao {nome}")
    catalog.write_text(text)
    with pytest.raises(TemplateError) as caught:
        load_bundle(NAME, root)
    assert caught.value.file == str(catalog) and caught.value.line == 2
    assert caught.value.path == "greeting.title" and "{nome}" in str(caught.value)


def test_attribute_access_is_not_a_placeholder(root: Path) -> None:
    catalog = root / "microsite_templates" / NAME / "messages" / "fr.po"
    _replace_once(catalog, '"Bonjour {name}"', '"{name.__class__}"')
    with pytest.raises(TemplateError, match="unknown placeholder"):
        load_bundle(NAME, root)


def test_unknown_message_key(root: Path) -> None:
    catalog = root / "microsite_templates" / NAME / "messages" / "de.po"
    extra = '\nmsgctxt "greetng"\nmsgid "Hello"\nmsgstr "Hallo"\n'
    catalog.write_text(catalog.read_text(encoding="utf-8") + extra, encoding="utf-8")
    with pytest.raises(TemplateError, match=r"de\.po:\d+: greetng: unknown message"):
        load_bundle(NAME, root)


def test_missing_required_message(root: Path) -> None:
    catalog = root / "scenes" / NAME / "narration" / "en.yaml"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace('  other: "Other"\n', ""))
    with pytest.raises(TemplateError, match=r"en\.yaml:1: lines\.other: required"):
        load_bundle(NAME, root)


def test_page_syntax_error_names_the_file(root: Path) -> None:
    page = root / "microsite_templates" / NAME / "index.html.j2"
    lines = page.read_text(encoding="utf-8").splitlines()
    lines[5] = "{% if %}"
    page.write_text("\n".join(lines))
    with pytest.raises(TemplateError) as caught:
        load_bundle(NAME, root)
    assert caught.value.file == str(page) and caught.value.line == 6


def test_an_unchanged_bundle_is_loaded_once_and_an_edit_is_seen(root: Path) -> None:
    """A worker loads its bundles once (renderers/warm.py); marketing's edit to any file of
    the bundle (here one string of one catalog, the same length) is picked up at once."""
    first = load_bundle(NAME, root)
    assert load_bundle(NAME, root) is first
    catalog = root / "scenes" / NAME / "narration" / "it.yaml"
    _replace_once(catalog, 'title: "Ciao {name}"', 'title: "Cara {name}"')
    edited = load_bundle(NAME, root)
    assert edited is not first
    assert edited.narration.by_locale["it"]["greeting.title"].startswith("Cara")
    assert load_bundle(NAME, root) is edited


def test_a_bundle_broken_after_loading_is_refused_not_served_stale(root: Path) -> None:
    load_bundle(NAME, root)
    _replace_once(root / "scenes" / NAME / "scenes.yaml", "type: breakdown\n", "type: x\n")
    with pytest.raises(TemplateError):
        load_bundle(NAME, root)
