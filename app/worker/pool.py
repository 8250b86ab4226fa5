"""Several render workers in one container: `BILLREEL_WORKERS=N billreel worker`.

Each of the N children is a whole `worker.py` (its own RQ worker, sweeper thread and webhook
dispatcher), so a worker container fills its cores without N containers. The parent only
supervises:

- SIGTERM or SIGINT is passed on once to every child (RQ's warm shutdown: each one finishes
  the render under way), and the parent exits when all have; the children run in their own
  session so a terminal's Ctrl-C does not reach them twice (twice is RQ's cold shutdown);
- a child killed by a signal it was not sent (the OOM killer, a stray SIGKILL) is started
  again after a pause; its render is picked up again by the sweeper;
- a child that exits with an error (Redis refused, a bad setting) stops the pool with its
  status: every child would fail the same way, and the container's restart policy decides.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

log = logging.getLogger("billreel.worker_pool")

WORKER_SCRIPT = Path(__file__).resolve().parents[2] / "worker.py"
RESTART_DELAY_SECONDS = 5.0  # before a killed child is started again
POLL_SECONDS = 0.5


def run_pool(count: int, burst: bool = False) -> int:
    """Run `count` worker processes until they exit; the pool's exit status."""
    from app.infra.services import Services
    from app.infra.settings import Settings

    # Tables (and the data directory's keys) made once here: N children creating them at
    # the same moment on a fresh database would race ("table already exists").
    Services.build(Settings.from_env()).db.dispose()
    args = [sys.executable, str(WORKER_SCRIPT), *(["--burst"] if burst else [])]
    env = {**os.environ, "BILLREEL_WORKERS": "1"}

    def start(slot: int) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(args, env=env, start_new_session=True)
        log.info("worker process started", extra={"count": slot + 1})
        return child

    children: dict[int, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(signum: int, _frame: FrameType | None = None) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signum)

    # Handlers first: a SIGTERM between starting the children and installing them would end
    # the pool and leave its children (in sessions of their own) running with no supervisor.
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    for slot in range(count):
        if not stopping:
            children[slot] = start(slot)
    status = 0
    try:
        while children:
            time.sleep(POLL_SECONDS)
            for slot, child in list(children.items()):
                code = child.poll()
                if code is None:
                    continue
                del children[slot]
                if code < 0 and not stopping and not burst:
                    log.warning("worker process killed; starting another", extra={"status": code})
                    time.sleep(RESTART_DELAY_SECONDS)
                    if not stopping:  # a SIGTERM during the pause: nothing to restart
                        children[slot] = start(slot)
                elif code > 0:
                    status = status or code
                    stop(signal.SIGTERM)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status
