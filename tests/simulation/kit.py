"""What the simulation tests share: one run on a fresh service, its data in memory."""

from __future__ import annotations

import tempfile
from pathlib import Path

from app.simulation.run import Config, Result, simulate
from app.simulation.service import EmbeddedService, scratch_dir

CUSTOMERS = 400
LIFT_POINTS = 30.0
STEPS = (-3,)  # the journey's first step only: a run of 400 customers in about half a minute


def run(config: Config) -> Result:
    """One run on a fresh service whose data lives in memory where the system has a tmpfs:
    the same SQLite, without waiting for a disk on every commit."""
    with tempfile.TemporaryDirectory(prefix="billreel-sim-", dir=scratch_dir()) as data:
        service = EmbeddedService(Path(data))
        try:
            return simulate(config, service)
        finally:
            service.close()


def arm(report: dict[str, object], name: str) -> dict[str, object]:
    arms = report["arms"]
    assert isinstance(arms, list)
    found: dict[str, object] = next(a for a in arms if a["arm"] == name)
    return found
