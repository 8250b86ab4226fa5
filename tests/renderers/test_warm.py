"""A worker warms up before it forks a horse per render: the bundles and what their locales
need are loaded once, and renders get the very same bundle objects."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from renderers.templates import load_bundle
from renderers.video.cache import CACHE_DIR_ENV
from renderers.warm import warm_up
from tests.factories import make_bill
from tests.paths import REPO_ROOT


def test_warm_up_loads_every_bundle_once_for_the_renders() -> None:
    bundles = warm_up()
    assert [b.name for b in bundles] == ["bill-explainer"]
    assert load_bundle("bill-explainer") is bundles[0]


def test_a_broken_bundle_does_not_stop_the_worker(tmp_path: Path) -> None:
    """Its renders fail with the template's error; the worker still starts for the others."""
    for part in ("scenes", "microsite_templates"):
        shutil.copytree(REPO_ROOT / part / "bill-explainer", tmp_path / part / "bill-explainer")
        shutil.copytree(REPO_ROOT / part / "bill-explainer", tmp_path / part / "broken")
    spec = tmp_path / "scenes" / "broken" / "scenes.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("name: bill-explainer", "name: x"))
    assert [b.name for b in warm_up(root=tmp_path)] == ["bill-explainer"]


RENDER_AFTER_WARM_UP = """
import json, re, sys, tempfile
from pathlib import Path
from renderers import render
from renderers.templates import load_bundle
from renderers.video.cache import CACHE_DIR_ENV
from renderers.warm import warm_up
warm_up()
modules, patterns = set(sys.modules), len(re._cache)
bill = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
with tempfile.TemporaryDirectory() as out:
    render(bill, load_bundle("bill-explainer"), ["video"], Path(out))
print(json.dumps([sorted(set(sys.modules) - modules), len(re._cache) - patterns]))
"""


def test_a_render_after_the_warm_up_imports_and_compiles_nothing(tmp_path: Path) -> None:
    """Whatever a horse loads for its render is loaded again by the next horse: a render
    (every layer type, a Chinese bill with an EPC code) finds every module imported, and,
    once the shared scenes are cached, every pattern compiled (a cache miss matches its
    key's leftover files by name)."""
    bill = tmp_path / "bill.json"
    bill.write_text(json.dumps(make_bill(**{"customer.locale": "zh-Hant-TW"})), encoding="utf-8")
    env = {**os.environ, CACHE_DIR_ENV: str(tmp_path / "cache")}
    found = []
    command = [sys.executable, "-c", RENDER_AFTER_WARM_UP, str(bill)]
    for _ in ("shared scenes drawn", "shared scenes cached"):
        out = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True, timeout=120
        )
        found.append(json.loads(out.stdout.splitlines()[-1]))
    assert found[0][0] == [] and found[1] == [[], 0]
