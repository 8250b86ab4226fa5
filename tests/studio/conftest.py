"""The shipped bill-explainer bundle as a version's files, and a way to load edited files
with the renderer's own loader (the check every edit must pass)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from renderers.templates import TemplateBundle, load_bundle
from tests.paths import REPO_ROOT

NAME = "bill-explainer"
FOLDERS = {"scenes": "scenes", "microsite": "microsite_templates"}


def shipped() -> dict[str, bytes]:
    files = {}
    for top, folder in FOLDERS.items():
        base = REPO_ROOT / folder / NAME
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            files[f"{top}/{path.relative_to(base).as_posix()}"] = path.read_bytes()
    return files


def load_files(files: Mapping[str, bytes], root: Path) -> TemplateBundle:
    """The renderer's bundle of `files`, written out under `root`."""
    for path, data in files.items():
        top, rest = path.split("/", 1)
        target = root / FOLDERS[top] / NAME / rest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return load_bundle(NAME, root=root)


@pytest.fixture
def files() -> dict[str, bytes]:
    return shipped()
