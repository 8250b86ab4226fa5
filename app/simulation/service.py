"""The service a simulation runs through: built by `create_app` on a fresh data directory,
called only through its HTTP API (the WSGI app itself, every layer a request passes), and
driven as its own processes would be: the clock file moved, the scheduler's `tick` and the
render job (`run_render_with`, what a worker runs) called when the clock has moved.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from app.access.keys import create_key
from app.infra import clock
from app.infra.services import Services
from app.infra.settings import Settings
from app.journeys.scheduler import tick
from app.rendering.job import run_render_with
from app.simulation.calls import ServiceError
from app.templates.store import publish
from app.wiring import create_app

PUBLIC_URL = "https://simulation.test"


TMPFS = Path("/dev/shm")  # noqa: S108 (only ever the parent of a mkdtemp directory)


def scratch_dir() -> Path | None:
    """Where a throwaway service's data goes: memory when the system has a tmpfs (the same
    SQLite, without a disk's wait on each commit), else the system's temporary directory."""
    return TMPFS if TMPFS.is_dir() else None


class EmbeddedService:
    """One service on its own data directory, with an admin key of a new account."""

    can_skew = True  # the run decides which renders its worker runs

    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.clock_file = data_dir / "clock"
        clock.write_offset(self.clock_file, 0.0)
        settings = Settings(
            data_dir=data_dir / "var",
            public_url=PUBLIC_URL,
            clock_file=self.clock_file,
        )
        self.app = create_app(settings, start_queue=False)  # renders run when the run says
        self.services: Services = self.app.extensions["billreel"]
        # One billing system calling as fast as it can is not a flood; without Redis each
        # counted request is a write to the database, a third of a simulated payment's time.
        self.app.extensions["billreel.limiter"].enabled = False
        self._client = self.app.test_client()
        self._auth = {
            "Authorization": f"Bearer {create_key(self.services.db, 'simulation', 'admin')}"
        }

    def call(self, method: str, path: str, body: Any = None, *, ndjson: bytes | None = None) -> Any:
        """One API call; its JSON answer (an NDJSON answer as a list), or ServiceError."""
        headers = dict(self._auth)
        if ndjson is not None:
            headers["Content-Type"] = "application/x-ndjson"
            answer = self._client.open(path, method=method, data=ndjson, headers=headers)
        elif body is not None:
            answer = self._client.open(path, method=method, json=body, headers=headers)
        else:
            answer = self._client.open(path, method=method, headers=headers)
        text = answer.get_data(as_text=True)
        if answer.status_code >= 400:
            raise ServiceError(method, path, answer.status_code, text)
        if answer.mimetype == "application/x-ndjson":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return json.loads(text) if text else None

    def now(self) -> datetime:
        return clock.now()

    def move_clock(self, to: datetime) -> None:
        """Every reader of the clock file (this process's service too) is at `to` now."""
        clock.write_offset(self.clock_file, (to - datetime.now(to.tzinfo)).total_seconds())

    def tick(self) -> list[str]:
        """Decide every step due now (batch after batch); the renders it started."""
        started: list[str] = []
        while True:
            result = tick(self.services, None)
            started += result.started
            if result.claimed < self.services.settings.scheduler_batch_steps:
                return started

    def watch(self, bill_render_ids: Sequence[str]) -> None:
        """Nothing to follow: `tick` is the scheduler itself and says what it started."""

    def render(self, render_id: str) -> tuple[str, datetime | None]:
        """Run one render as a worker would: its status afterwards, and when it was done."""
        status = run_render_with(self.services, render_id)
        return status, clock.now() if status == "done" else None

    def publish_version(self, template: str, number: int) -> None:
        """Publish a version without the preview grid's checks (a copy of a published one
        passed them; drawing every sample's scenes would take most of a minute)."""
        publish(self.services, template, number, author="simulation")

    def close(self) -> None:
        self.services.db.dispose()
        clock.configure(None)
