"""The journey scheduler at scale: N steps due at once, found and enqueued (PostgreSQL, Redis).

Real parts on loopback: a throwaway PostgreSQL cluster (tests/pg.py: fsync off, as in the
tests) and redis-server (tests/realparts.py, no persistence). N bills are put in the
database as the API leaves them (a bill's render, its journey, its step: one SQL
`generate_series` per table, not timed), every step due at 09:00 UTC on the clock file's
day (10:00 in Rome, out of quiet hours). Then BENCH_SCHEDULER_PROCESSES `billreel scheduler
--once` processes start together and run until no step is left: each step is claimed
(`FOR UPDATE SKIP LOCKED`), decided (its journey, its window, quiet hours, the customer's
contact limit), its render inserted by one INSERT ... SELECT per batch and its RQ job
enqueued in one pipeline per batch. Timed: from launching the processes to the last one
exiting, their start-up (imports, the schema check) included.

Checked afterwards: every step `rendering`, one render and one `started` decision each, and
exactly N jobs waiting in Redis.

Environment: BENCH_SCHEDULER_STEPS (default 1000000), BENCH_SCHEDULER_PROCESSES (2),
BENCH_SCHEDULER_BATCH (BILLREEL_SCHEDULER_BATCH_STEPS, default 5000). A quick check:
`BENCH_SCHEDULER_STEPS=20000 .venv/bin/python benchmarks/bench_scheduler.py`. Prints the
figures (Markdown) and writes them as JSON to BENCH_SCHEDULER_JSON when set.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from app.access.keys import create_key  # noqa: E402
from app.infra import clock  # noqa: E402
from app.infra.services import Services  # noqa: E402
from app.infra.settings import Settings  # noqa: E402
from app.journeys.model import JourneyDefinition  # noqa: E402
from app.journeys.store import save_version  # noqa: E402
from app.templates.lookup import find_version  # noqa: E402
from tests.factories import make_bill  # noqa: E402
from tests.pg import start_postgres, stop_postgres  # noqa: E402
from tests.realparts import start_redis, stop_process  # noqa: E402

STEPS = int(os.environ.get("BENCH_SCHEDULER_STEPS", "1000000"))
PROCESSES = int(os.environ.get("BENCH_SCHEDULER_PROCESSES", "2"))
BATCH = int(os.environ.get("BENCH_SCHEDULER_BATCH", "5000"))
GOAL_SECONDS = 300.0  # issue 18: a million due steps found and enqueued in under 5 minutes
DUE_AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # 10:00 in Rome
NOW = DUE_AT + timedelta(minutes=30)
SEED_CHUNK = 250_000  # rows per INSERT ... SELECT generate_series
ONE_STEP = {
    "offset_days": -3,
    "template": "bill-explainer",
    "tone": "pay",
    "outputs": ["microsite"],
}


def seed(services: Services, account: str, count: int) -> None:
    """`count` bills on a one-step journey, as `app.journeys.enroll` leaves them."""
    version = find_version(services, "bill-explainer")
    journey = save_version(
        services.db,
        account,
        "bench",
        JourneyDefinition.model_validate({"steps": [ONE_STEP]}),
        "bench",
    )
    bill = json.dumps(make_bill(**{"customer.time_zone": "Europe/Rome"}))
    params = {
        "account": account,
        "bill": bill,
        "version_id": version.id,
        "journey_version": journey.id,
        "created": NOW - timedelta(days=10),
        "due_at": DUE_AT,
        "window": DUE_AT + timedelta(days=3),
        "due_on": date(2026, 11, 30),
    }
    statements = [
        """INSERT INTO renders (id, api_key_id, token, template, template_version,
               template_version_id, outputs, external_id, customer_id, callback_url, bill,
               status, attempts, created_at, updated_at, finished_at)
           SELECT 'rnd_b' || lpad(to_hex(i), 31, '0'), :account, 'tb' || md5(i::text),
               'bill-explainer', 'bill-explainer@1', :version_id, '["microsite"]'::json,
               'F-' || i, 'C-' || i, 'https://billing.example.test/hooks', CAST(:bill AS json),
               'done', 1, :created, :created, :created
           FROM generate_series(CAST(:start AS integer), CAST(:stop AS integer)) AS i""",
        """INSERT INTO bill_journeys (id, account, customer_id, render_id, journey_version_id,
               time_zone, due_on, status, created_at, updated_at)
           SELECT 'bjn_' || lpad(to_hex(i), 32, '0'), :account, 'C-' || i,
               'rnd_b' || lpad(to_hex(i), 31, '0'), :journey_version, 'Europe/Rome', :due_on,
               'active', :created, :created
           FROM generate_series(CAST(:start AS integer), CAST(:stop AS integer)) AS i""",
        """INSERT INTO journey_steps (id, bill_journey_id, position, account, customer_id,
               template, tone, outputs, due_at, window_ends_at, status, render_id, token)
           SELECT 'jst_' || lpad(to_hex(i), 32, '0'), 'bjn_' || lpad(to_hex(i), 32, '0'), 1,
               :account, 'C-' || i, 'bill-explainer', 'pay', '["microsite"]'::json, :due_at,
               :window, 'scheduled', 'rnd_s' || lpad(to_hex(i), 31, '0'), 'ts' || md5(i::text)
           FROM generate_series(CAST(:start AS integer), CAST(:stop AS integer)) AS i""",
    ]
    with services.db.engine.begin() as connection:
        for start in range(1, count + 1, SEED_CHUNK):
            stop = min(count, start + SEED_CHUNK - 1)
            for statement in statements:
                connection.execute(text(statement), params | {"start": start, "stop": stop})
    with services.db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def run_schedulers(env: dict[str, str], logs: Path) -> float:
    started = time.perf_counter()
    processes = []
    for n in range(PROCESSES):
        log = open(logs / f"scheduler-{n}.log", "wb")  # noqa: SIM115 (closed below)
        processes.append(
            (subprocess.Popen([sys.executable, "-m", "app.cli", "scheduler", "--once"],
                              env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT), log)
        )  # fmt: skip
    for process, log in processes:
        process.wait()
        log.close()
        if process.returncode != 0:
            raise RuntimeError(f"a scheduler failed; see {log.name}")
    return time.perf_counter() - started


def check(services: Services, redis_url: str, count: int) -> dict[str, Any]:
    from redis import Redis

    with services.db.engine.connect() as connection:
        states = dict(
            connection.execute(text("SELECT status, count(*) FROM journey_steps GROUP BY 1")).all()
        )
        renders = connection.execute(
            text("SELECT count(*) FROM renders WHERE status = 'queued'")
        ).scalar_one()
        started = connection.execute(
            text(
                "SELECT count(DISTINCT step_id), count(*) FROM journey_decisions "
                "WHERE decision = 'started'"
            )
        ).one()
        size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    with Redis.from_url(redis_url) as redis:
        waiting = redis.llen("rq:queue:batch")
        memory = redis.info("memory")["used_memory"]
    assert states == {"rendering": count}, states
    assert renders == count and tuple(started) == (count, count), (renders, started)
    assert waiting == count, waiting
    return {"database_bytes": int(size), "redis_bytes": int(memory)}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-scheduler-"))
    load = Path("/proc/loadavg").read_text().split()[:3]
    server = start_postgres()
    redis = start_redis(work / "redis")
    clock_file = work / "clock"
    try:
        url = server.url()
        env = {
            **os.environ,
            "BILLREEL_DATA_DIR": str(work / "var"),
            "BILLREEL_DATABASE_URL": url,
            "BILLREEL_REDIS_URL": redis.url,
            "BILLREEL_CLOCK_FILE": str(clock_file),
            "BILLREEL_SCHEDULER_BATCH_STEPS": str(BATCH),
            "BILLREEL_LOG_LEVEL": "warning",
        }
        services = Services.build(Settings.from_env(env))
        clock.write_offset(clock_file, (NOW - datetime.now(UTC)).total_seconds())
        key = create_key(services.db, "bench")
        with services.db.session() as session:
            account = session.execute(text("SELECT id FROM api_keys")).scalar_one()
        print(f"seeding {STEPS:,} due steps ...", flush=True)
        seeding = time.perf_counter()
        seed(services, account, STEPS)
        seeded = time.perf_counter() - seeding
        print(f"seeded in {seeded:.0f} s; {PROCESSES} schedulers start", flush=True)
        clock.write_offset(clock_file, (NOW - datetime.now(UTC)).total_seconds())
        seconds = run_schedulers(env, work)
        sizes = check(services, redis.url, STEPS)
        services.db.dispose()
        del key
        figures = {
            "steps": STEPS,
            "processes": PROCESSES,
            "batch": BATCH,
            "seconds": round(seconds, 1),
            "steps_per_second": round(STEPS / seconds),
            "goal_met": seconds < GOAL_SECONDS * STEPS / 1_000_000,
            "database_mib": round(sizes["database_bytes"] / 2**20),
            "redis_mib": round(sizes["redis_bytes"] / 2**20),
            "redis_bytes_per_job": round(sizes["redis_bytes"] / STEPS),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python "
            f"{platform.python_version()}",
            "load_before": " ".join(load),
        }
    finally:
        stop_process(redis.process)
        stop_postgres(server)
    print("| figure | value |\n|---|---|")
    for name, value in figures.items():
        print(f"| {name} | {value} |")
    target = os.environ.get("BENCH_SCHEDULER_JSON")
    if target:
        Path(target).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
