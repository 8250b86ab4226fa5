"""Every command of these tests keeps its data (the template store too) in its own folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLREEL_DATA_DIR", str(tmp_path / "cli-var"))
