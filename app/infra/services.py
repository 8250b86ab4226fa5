"""The long-lived parts one process needs, built once from settings.

The API process and each worker build the same `Services`, so a render job runs the same
code whether the embedded in-process queue or an RQ worker picked it up.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.infra import clock
from app.infra.database import Database
from app.infra.schema import migrate
from app.infra.settings import Settings
from app.infra.storage import Storage, storage_from_settings

if TYPE_CHECKING:
    from app.infra.queue import RenderQueue


@dataclass
class Services:
    settings: Settings
    db: Database
    storage: Storage
    secret: bytes
    queue: RenderQueue | None = None
    # The queue of videos made on open (`app.ondemand`): its jobs run the video job.
    video_queue: RenderQueue | None = None

    @classmethod
    def build(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.work_dir.mkdir(parents=True, exist_ok=True)
        clock.configure(settings.clock_file)  # tests move every process's time through it

        db = Database(settings.effective_database_url)
        migrate(db.engine)
        return cls(
            settings=settings,
            db=db,
            storage=storage_from_settings(settings),
            secret=_secret(settings),
        )


def _secret(settings: Settings) -> bytes:
    """The configured secret, or one made once and kept (mode 0600) in the data directory."""
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    path = settings.data_dir / "secret.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_hex(32).encode("ascii"))
    return path.read_bytes()
