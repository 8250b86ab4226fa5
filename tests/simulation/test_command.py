"""`billreel simulate` as a command: end to end at a small size, and bad input named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from app.cli.main import main
from tests.paths import REPO_ROOT


def test_the_command_runs_end_to_end_and_prints_the_figures(tmp_path: Path) -> None:
    out = tmp_path / "simulation.json"
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "simulate", "--customers", "16", "--steps=-3,1",
         "--step-hours", "4", "--lift", "10", "--holdout", "--json", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ground truth (judge over the simulator's own bills): the same counts" in done.stdout
    assert "Figures (GET /v1/figures?batch=bat_" in done.stdout
    assert "paid by the due date" in done.stdout
    written = json.loads(out.read_text())
    assert [a["arm"] for a in written["report"]["arms"]] == ["control", "treatment", "holdout"]
    assert written["figures"]["groups"][0]["bills"] == 16
    assert written["truth"]["lift_points"] == 10.0


def test_a_lift_larger_than_the_late_bills_leave_is_refused_naming_it() -> None:
    answer = CliRunner().invoke(main, ["simulate", "--customers", "2", "--lift", "40"])
    assert answer.exit_code != 0
    assert "lift: at most 34.1 points here" in answer.output
