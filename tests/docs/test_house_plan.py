"""The house plan: every package of `app/` says what it owns and is on the map in docs/design.md.

Which package may import which is import-linter's to check (`make check`, contracts in
pyproject.toml); this test keeps the map and the docstrings true to the tree.
"""

from __future__ import annotations

import ast
import re

from tests.paths import REPO_ROOT

APP = REPO_ROOT / "app"


def _packages() -> list[str]:
    return sorted(
        str(init.parent.relative_to(REPO_ROOT))
        for init in APP.rglob("__init__.py")
        if init.parent != APP and init.parent.parent == APP
    )


def test_every_package_of_app_says_what_it_owns() -> None:
    for package in ["app", *_packages()]:
        tree = ast.parse((REPO_ROOT / package / "__init__.py").read_text(encoding="utf-8"))
        docstring = ast.get_docstring(tree)
        assert docstring and len(docstring.split()) >= 5, f"{package} has no docstring"


def test_the_design_map_names_every_package_and_only_real_ones() -> None:
    design = (REPO_ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    mapped = set(re.findall(r"^\| `(app/[a-z_]+)/` \|", design, flags=re.MULTILINE))
    assert mapped == set(_packages())


def test_app_has_no_modules_beside_its_packages() -> None:
    loose = sorted(p.name for p in APP.glob("*.py") if p.name != "__init__.py")
    assert loose == [], "a module of app/ belongs in the package of its domain"


def test_the_top_level_of_the_design_card_exists() -> None:
    for place in [
        "app/__init__.py",
        "renderers/__init__.py",
        "renderers/templates.py",
        "renderers/formatting.py",
        "renderers/video",
        "renderers/microsite",
        "scenes/bill-explainer",
        "microsite_templates/bill-explainer",
        "worker.py",
        "Dockerfile",
        "docker-compose.yml",
        "pyproject.toml",
        "Makefile",
        "README.md",
        ".ci/run",
    ]:
        assert (REPO_ROOT / place).exists(), place
