"""A service already running elsewhere on this machine (an embedded `billreel serve` started
with `BILLREEL_CLOCK_FILE`), reached by its URL with an admin key.

The simulator moves the clock by writing the file the service reads; the service's own
scheduler thread and in-process worker decide the steps and make the renders, and the
simulator waits for them by reading the API: a render until it is done, failed or
cancelled; a bill's journey (`GET /v1/renders/{id}/journey`) once one of its steps falls due,
until the scheduler has decided it. Waiting is the price of a service this process does not
run; it polls every `poll_seconds`, for at most `wait_seconds` per wait.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import urllib3
from urllib3.util.retry import Retry

from app.infra import clock
from app.simulation.calls import ServiceError

DONE = ("done", "failed", "cancelled")
UNDECIDED = ("scheduled",)  # a step the scheduler has not decided yet


class RemoteService:
    can_skew = False  # its worker runs every render: a failing fleet cannot be played here

    def __init__(
        self,
        url: str,
        key: str,
        clock_file: Path,
        *,
        poll_seconds: float = 0.1,
        wait_seconds: float = 300.0,
    ):
        self.url = url.rstrip("/")
        self.clock_file = clock_file
        clock.configure(clock_file)  # the service's clock: the same file
        self._auth = {"Authorization": f"Bearer {key}"}
        # 429 means "not done, come back after Retry-After": safe to repeat for any method.
        retry = Retry(total=20, connect=3, read=0, status=20, status_forcelist=(429,),
                      allowed_methods=None, respect_retry_after_header=True,
                      backoff_factor=0.2)  # fmt: skip
        self._http = urllib3.PoolManager(retries=retry, timeout=urllib3.Timeout(60.0))
        self.poll_seconds, self.wait_seconds = poll_seconds, wait_seconds
        self._next_due: dict[str, datetime] = {}  # bill render -> its next undecided step's time
        self._seen: set[str] = set()  # step renders already handed to the run

    def call(self, method: str, path: str, body: Any = None, *, ndjson: bytes | None = None) -> Any:
        headers = dict(self._auth)
        data = None
        if ndjson is not None:
            headers["Content-Type"], data = "application/x-ndjson", ndjson
        elif body is not None:
            headers["Content-Type"], data = "application/json", json.dumps(body).encode()
        answer = self._http.request(method, self.url + path, body=data, headers=headers)
        text = answer.data.decode("utf-8")
        if answer.status >= 400:
            raise ServiceError(method, path, answer.status, text)
        if answer.headers.get("Content-Type", "").startswith("application/x-ndjson"):
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return json.loads(text) if text else None

    def now(self) -> datetime:
        return clock.now()

    def move_clock(self, to: datetime) -> None:
        clock.write_offset(self.clock_file, (to - datetime.now(to.tzinfo)).total_seconds())

    def watch(self, bill_render_ids: Sequence[str]) -> None:
        """The bills whose journeys `tick` follows: their steps' times, read once."""
        for render_id in bill_render_ids:
            self._follow(render_id, self.call("GET", f"/v1/renders/{render_id}/journey"))

    def _follow(self, render_id: str, journey: dict[str, Any]) -> list[str]:
        """Note the bill's next undecided step; the renders of steps started since."""
        started = []
        undecided = []
        for step in journey["steps"]:
            if step["status"] in UNDECIDED:
                undecided.append(datetime.fromisoformat(step["due_at"]))
            elif step["render_id"] and step["render_id"] not in self._seen:
                self._seen.add(step["render_id"])
                started.append(step["render_id"])
        self._next_due.pop(render_id, None)
        if undecided and journey["status"] == "active":
            self._next_due[render_id] = min(undecided)
        return started

    def tick(self) -> list[str]:
        """Wait until the service's scheduler has decided every step due by now."""
        started: list[str] = []
        waiting = [r for r, due in self._next_due.items() if due <= self.now()]
        give_up = time.monotonic() + self.wait_seconds
        while waiting:
            for render_id in waiting:
                journey = self.call("GET", f"/v1/renders/{render_id}/journey")
                started += self._follow(render_id, journey)
            now = self.now()
            waiting = [r for r in waiting if r in self._next_due and self._next_due[r] <= now]
            if waiting:
                if time.monotonic() > give_up:
                    raise ServiceError("GET", "/v1/renders/{id}/journey", 504,
                                       f"{len(waiting)} due steps undecided")  # fmt: skip
                time.sleep(self.poll_seconds)
        return started

    def render(self, render_id: str) -> tuple[str, datetime | None]:
        """Wait for the service's worker to finish it: its status and when it was done."""
        give_up = time.monotonic() + self.wait_seconds
        while True:
            body = self.call("GET", f"/v1/renders/{render_id}")
            if body["status"] in DONE:
                done = body.get("finished_at")
                return body["status"], datetime.fromisoformat(done) if done else None
            if time.monotonic() > give_up:
                raise ServiceError("GET", f"/v1/renders/{render_id}", 504, body["status"])
            time.sleep(self.poll_seconds)

    def publish_version(self, template: str, number: int) -> None:
        self.call("POST", f"/v1/templates/{template}/versions/{number}/publish")

    def close(self) -> None:
        self._http.clear()
        clock.configure(None)
