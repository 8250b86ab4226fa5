"""The moved clock of the journey tests: a move is seen at once, and never falls short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.infra import clock


def test_a_moved_clock_is_never_before_the_moment_it_was_moved_to(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    clock.configure(path)
    try:
        target = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
        for move in range(500):  # a step due at 07:00 must be due when the test says 07:00
            moment = target + timedelta(days=move % 2)
            clock.write_offset(path, (moment - datetime.now(UTC)).total_seconds())
            assert clock.now() >= moment, f"move {move}: {clock.now()} is before {moment}"
    finally:
        clock.configure(None)
