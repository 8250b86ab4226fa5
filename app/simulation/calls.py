"""What a run needs of a service, whichever runs it (`service.EmbeddedService` in this
process, `remote.RemoteService` at a URL), and the errors a run stops with."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol


class ServiceError(Exception):
    """The service answered a call with an error: its status and problem detail."""

    def __init__(self, method: str, path: str, status: int, body: str):
        super().__init__(f"{method} {path}: {status} {body[:500]}")
        self.status = status


class Service(Protocol):
    """The service a run goes through (`service.EmbeddedService`, `remote.RemoteService`)."""

    can_skew: bool  # whether the run may keep renders from running

    def call(
        self, method: str, path: str, body: Any = None, *, ndjson: bytes | None = None
    ) -> Any: ...
    def now(self) -> datetime: ...
    def move_clock(self, to: datetime) -> None: ...
    def watch(self, bill_render_ids: Sequence[str]) -> None: ...
    def tick(self) -> list[str]: ...
    def render(self, render_id: str) -> tuple[str, datetime | None]: ...
    def publish_version(self, template: str, number: int) -> None: ...


class SimulationInputError(ValueError):
    def __init__(self, field: str, detail: str):
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail
