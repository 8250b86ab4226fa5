"""YAML and gettext files edited in place: nothing but the edited value changes."""

from __future__ import annotations

import difflib

import pytest

from app.studio import potext, yamltext
from app.studio.errors import EditRefused
from tests.studio.conftest import shipped


def changed_lines(old: str, new: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


@pytest.mark.parametrize("path", [p for p in shipped() if p.endswith(".yaml")])
def test_every_shipped_yaml_file_round_trips_to_its_bytes(path: str) -> None:
    text = shipped()[path].decode()
    assert yamltext.dump(yamltext.load(text, path)) == text


def test_invisible_characters_stay_escapes() -> None:
    doc = yamltext.load('a: "x"\nb: "keep\\u00a0this"  # note\n', "f.yaml")
    doc["a"] = yamltext.like(doc["a"], "ชำระ\u200bภายใน")
    assert yamltext.dump(doc) == 'a: "ชำระ\\u200bภายใน"\nb: "keep\\u00a0this"  # note\n'


def test_a_colour_stays_quoted() -> None:
    doc = yamltext.load("accent: '#64B5F6' # comment\n", "f.yaml")
    doc["accent"] = yamltext.like(doc["accent"], "#FF0000")
    assert yamltext.dump(doc) == "accent: '#FF0000' # comment\n"


def test_bad_yaml_names_the_file() -> None:
    with pytest.raises(EditRefused) as caught:
        yamltext.load("a: [1, 2\n", "scenes/narration/it.yaml")
    assert caught.value.field == "scenes/narration/it.yaml"


def _po(locale: str = "it") -> tuple[str, str]:
    path = f"microsite/messages/{locale}.po"
    return path, shipped()[path].decode()


def _source(key: str) -> potext.Message:
    pot = shipped()["microsite/messages/messages.pot"].decode()
    return potext.messages(potext.read(pot, "messages.pot"))[key]


def test_a_translation_changes_only_its_msgstr() -> None:
    path, text = _po()
    new = potext.set_translation(text, path, "greeting", 'Salve "{name}"', _source("greeting"))
    assert changed_lines(text, new) == ['-msgstr "Ciao {name}"', '+msgstr "Salve \\"{name}\\""']
    assert potext.messages(potext.read(new, path))["greeting"].string == 'Salve "{name}"'


def test_a_long_translation_wraps_as_the_catalogs_do() -> None:
    path, text = _po("de")
    key = "status.nudge"
    old = str(potext.messages(potext.read(text, path))[key].string)
    # Written again unchanged: the same lines (pybabel's width), so no diff at all.
    assert potext.set_translation(text, path, key, old, _source(key)) == text


def test_a_fuzzy_translation_is_used_once_set() -> None:
    path, text = _po()
    fuzzy = text.replace('#, python-brace-format\nmsgctxt "greeting"',
                         '#, fuzzy, python-brace-format\nmsgctxt "greeting"')  # fmt: skip
    assert fuzzy != text
    new = potext.set_translation(fuzzy, path, "greeting", "Ciao {name}", _source("greeting"))
    assert new == text


def test_a_missing_entry_is_added_from_the_template() -> None:
    path, text = _po()
    start = text.index('#, python-brace-format\nmsgctxt "greeting"')
    end = text.index("\n\n", start) + 2
    without = text[:start] + text[end:]
    new = potext.set_translation(without, path, "greeting", "Ciao!", _source("greeting"))
    message = potext.messages(potext.read(new, path))["greeting"]
    assert message.string == "Ciao!" and message.id == "Hello {name}"
    assert "python-brace-format" in message.flags
