"""A credit manager's figures over one big billing run on PostgreSQL (app/collection).

A throwaway PostgreSQL cluster (tests/pg.py: fsync off, as in the tests) gets N bills of
one run, as the API leaves them (a render with its bill document: three segments, totals of
1 to 200 EUR, issued 2026-11-01, due 2026-11-30), 70 % of them paid 0 to 59 days after issue
(one SQL `generate_series` per table, then ANALYZE; not timed). Timed: `figures()` of the
run by batch (all its figures, with the previous run as the DSO baseline), by segment and by
tone, each the three grouped queries and the Kaplan-Meier fits, as the API serves them.

Environment: BENCH_FIGURES_BILLS (default 1000000). A quick check:
`BENCH_FIGURES_BILLS=20000 .venv/bin/python benchmarks/bench_figures.py`. Prints the
figures (Markdown) and writes them as JSON to BENCH_FIGURES_JSON when set.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from app.access.keys import make_key  # noqa: E402
from app.collection.figures import figures  # noqa: E402
from app.infra.services import Services  # noqa: E402
from app.infra.settings import Settings  # noqa: E402
from tests.pg import start_postgres, stop_postgres  # noqa: E402

BILLS = int(os.environ.get("BENCH_FIGURES_BILLS", "1000000"))
AS_OF = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
SEED_CHUNK = 250_000

RENDERS = """
INSERT INTO renders (id, api_key_id, batch_id, line, token, template, template_version,
  purpose, outputs, customer_id, bill, status, attempts, created_at, updated_at)
SELECT 'rnd_' || i, :account, :batch, i, 'tok_' || i, 'bill-explainer', 'bill-explainer@1',
  'bill', '["microsite"]'::json, 'C' || (i % 300000),
  json_build_object(
    'customer', json_build_object('id', 'C' || (i % 300000),
      'segment', (ARRAY['punctual', 'forgetful', 'chronic'])[1 + i % 3]),
    'bill', json_build_object('issued_on', '2026-11-01', 'due_on', '2026-11-30',
      'currency', 'EUR', 'total', (1 + i % 200) || '.00',
      'status', CASE WHEN i % 3 = 2 THEN 'overdue' ELSE 'open' END)),
  'done', 1, CAST(:created AS timestamptz), CAST(:created AS timestamptz)
FROM generate_series(CAST(:low AS integer), CAST(:high AS integer)) AS i
"""
PAYMENTS = """
INSERT INTO payments (id, render_id, paid_at, created_at)
SELECT 'pay_' || i, 'rnd_' || i,
  TIMESTAMPTZ '2026-11-01 11:00+00' + (i % 60) * INTERVAL '1 day',
  TIMESTAMPTZ '2026-11-01 11:00+00' + (i % 60) * INTERVAL '1 day'
FROM generate_series(CAST(:low AS integer), CAST(:high AS integer)) AS i WHERE i % 10 < 7
"""


def seed(services: Services, account: str, batch: str, previous: str) -> None:
    with services.db.session() as session:
        for run, created in ((previous, "2026-10-01 10:00+00"), (batch, "2026-11-01 10:00+00")):
            session.execute(
                text(
                    "INSERT INTO batches (id, api_key_id, accepted, rejected_count, created_at)"
                    " VALUES (:id, :account, 0, 0, :created)"
                ),
                {"id": run, "account": account, "created": created},
            )
    for low in range(1, BILLS + 1, SEED_CHUNK):
        high = min(BILLS, low + SEED_CHUNK - 1)
        with services.db.session() as session:
            args = {
                "account": account,
                "batch": batch,
                "low": low,
                "high": high,
                "created": "2026-11-01 10:00+00",
            }
            session.execute(text(RENDERS), args)
            session.execute(text(PAYMENTS), {"low": low, "high": high})
    with services.db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-figures-"))
    load = Path("/proc/loadavg").read_text().split()[:3]
    server = start_postgres()
    try:
        settings = Settings(data_dir=work / "var", database_url=server.url())
        services = Services.build(settings)
        account = make_key(services.db, "bench").info.account
        print(f"seeding {BILLS:,} bills ...", flush=True)
        started = time.perf_counter()
        seed(services, account, "bat_big", "bat_before")
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
        timings: dict[str, float] = {}
        for by in ("batch", "segment", "tone"):
            started = time.perf_counter()
            with services.db.session() as session:
                body = figures(session, account, by=by, batch="bat_big", as_of=AS_OF)
            timings[by] = round(time.perf_counter() - started, 1)
            counted = sum(g["bills"] for g in body["groups"])
            assert counted == BILLS, (by, counted)
        services.db.dispose()
    finally:
        stop_postgres(server)
    result = {
        "bills": BILLS,
        **{f"seconds_by_{by}": seconds for by, seconds in timings.items()},
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}",
        "load_before": " ".join(load),
    }
    print("| figure | value |\n|---|---|")
    for name, value in result.items():
        print(f"| {name} | {value} |")
    target = os.environ.get("BENCH_FIGURES_JSON")
    if target:
        Path(target).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"written to {target}")


if __name__ == "__main__":
    main()
