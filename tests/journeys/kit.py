"""What the journey tests share: a journey like the issue's, a bill due on a known day in a
known time zone, and a clock the tests move (`app.infra.clock`), never sleeping."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.infra import clock
from tests.factories import make_render_request

CALLBACK = "https://billing.example.test/hooks"
TIME_ZONE = "Europe/Rome"  # UTC+1 in November
DUE_ON = "2026-11-30"  # the factories' bill

# The cadence: 3 days before (friendly), 1 after (nudge), 7 after (firm), 15 after.
JOURNEY: dict[str, Any] = {
    "description": "Soft collection for households",
    "steps": [
        {"name": "friendly reminder", "offset_days": -3, "template": "bill-explainer",
         "tone": "pay", "outputs": ["microsite"]},
        {"name": "nudge", "offset_days": 1, "template": "bill-explainer",
         "outputs": ["microsite"]},
        {"name": "firm, with instalments", "offset_days": 7, "template": "bill-explainer",
         "tone": "firm", "outputs": ["microsite"]},
        {"name": "last notice", "offset_days": 15, "template": "bill-explainer@1",
         "tone": "firm", "outputs": ["microsite"]},
    ],
}  # fmt: skip


def bill_request(journey: str = "gentle", **overrides: Any) -> dict[str, Any]:
    """A render request for the factories' bill, on `journey`, in Rome's time zone."""
    values = {
        "outputs": ["microsite"],
        "journey": journey,
        "callback_url": CALLBACK,
        "data.customer.time_zone": TIME_ZONE,
        **overrides,
    }
    return make_render_request(**values)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def move_clock(path: Path, to: datetime) -> None:
    """Every process reading `path` now believes it is `to` (and time goes on from there)."""
    clock.write_offset(path, (to - datetime.now(UTC)).total_seconds())
