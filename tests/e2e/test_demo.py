"""`make demo`'s job, `billreel demo`, renders every bundled example through the service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import EXAMPLES
from tests.realparts import free_port, require

pytestmark = pytest.mark.e2e


def test_the_demo_renders_every_example_bill_and_prints_its_links(tmp_path: Path) -> None:
    require("ffmpeg")
    examples = sorted(path.stem for path in EXAMPLES.glob("*.json"))
    assert examples, "the repository ships example bills"
    env = os.environ | {"BILLREEL_DATA_DIR": str(tmp_path / "var")}
    env.pop("BILLREEL_REDIS_URL", None)
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", "--port", str(port), "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"Rendering {len(examples)} example bills" in result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line and not line[0].isspace()]
    assert [(row[0], row[1]) for row in rows] == [(name, "done") for name in examples]
    assert all(row[2].startswith(f"http://127.0.0.1:{port}/r/") for row in rows)
