"""Tracked links under load: `/r/{token}` (the microsite, an `opened` event each) and
`/r/{token}/pay` (a 302 and a `pay_click` event each), served by gunicorn on loopback and
driven by wrk with random tokens. `/healthz` (no database, no event) gives the ceiling of
the stack itself, so the cost of the lookup and the event write shows as the difference.

Goal: >= 1,000 requests/s on 2 cores with p99 under 50 ms. Every request must leave its
event in the database: the run counts them afterwards.

Settings (environment): BENCH_RENDERS (tokens, default 20,000), BENCH_SECONDS (per run,
default 15), BENCH_CONNECTIONS (default 32), BENCH_WORKERS (gunicorn processes, default 4),
BENCH_DATABASE_URL (default: SQLite in a temporary data directory),
BENCH_EVENT_FLUSH_SECONDS (BILLREEL_EVENT_FLUSH_SECONDS of the server, default 0.5: events
written in batches; 0 writes each on its request).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app.access.keys import create_key  # noqa: E402
from app.delivery.links import new_token  # noqa: E402
from app.infra.database import ApiKey, Event, Render, new_id, utcnow  # noqa: E402
from app.infra.services import Services  # noqa: E402
from app.infra.settings import Settings  # noqa: E402
from app.infra.storage import CONTENT_TYPES, LocalStorage, Storage, output_key  # noqa: E402
from app.rendering.job import OUTPUT_CACHE_CONTROL  # noqa: E402
from tests.factories import make_render_request  # noqa: E402

# Many renders, as in a billing run: visits to one render rarely come seconds apart.
RENDERS = int(os.environ.get("BENCH_RENDERS", "20000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
EVENT_FLUSH_SECONDS = os.environ.get("BENCH_EVENT_FLUSH_SECONDS", "0.5")
WRK_THREADS = 2
WARMUP_SECONDS = 3
START_SECONDS = 60
GOAL_RPS = 1000
GOAL_P99_MS = 50.0
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
# A microsite page of a realistic size (the real ones are self-contained HTML).
PAGE = ("<!doctype html><html><body>" + "<p>bill explainer</p>" * 2000 + "</body></html>").encode()

# What is measured: (row name, what the wrk script appends to /r/TOKEN; "health": /healthz).
ENDPOINTS = (("/healthz", "health"), ("/r/{token}", ""), ("/r/{token}/pay", "/pay"))
STOP_SECONDS = 90  # gunicorn's graceful stop: workers write their pending events first
LUA = """
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local suffix = "%(suffix)s"
wrk.headers["User-Agent"] = "%(ua)s"
request = function()
  local path = "/r/" .. tokens[math.random(#tokens)] .. suffix
  if suffix == "health" then path = "/healthz" end
  return wrk.format("GET", path)
end
"""


@dataclass
class Run:
    name: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers plus socket errors
    cpu_ms: float = 0.0  # CPU time of the gunicorn processes per request (event writes too)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def seed(settings: Settings) -> list[str]:
    """Done renders delivered two days ago (so no visit falls in the delivery burst)."""
    services = Services.build(settings)
    create_key(services.db, "bench")
    bill = make_render_request()["data"]
    delivered = utcnow() - timedelta(days=2)
    tokens = [new_token() for _ in range(RENDERS)]
    with services.db.session() as session:
        key_id = session.scalar(select(ApiKey.id))
        assert key_id is not None
        for n, token in enumerate(tokens):
            render_id = new_id("rnd")
            session.add(
                Render(
                    id=render_id,
                    api_key_id=key_id,
                    token=token,
                    template="bill-explainer",
                    template_version="bill-explainer@bench",
                    outputs=["video", "microsite"],
                    customer_id=f"CUST-{n:06d}",
                    bill=bill,
                    status="done",
                    created_at=delivered,
                    finished_at=delivered,
                )
            )
            store_page(services.storage, output_key(render_id, "site/index.html"))
    services.db.dispose()
    return tokens


_first_page: list[str] = []


def store_page(storage: Storage, key: str) -> None:
    """The page of one render. Local files: the first is stored as the job stores it, the
    rest are hard links to it with the same metadata, so that tens of thousands of renders
    are seeded in seconds (their bytes are the same anyway)."""
    if not isinstance(storage, LocalStorage) or not _first_page:
        storage.put_bytes(
            key,
            PAGE,
            content_type=CONTENT_TYPES["site/index.html"],
            cache_control=OUTPUT_CACHE_CONTROL,
        )
        _first_page.append(key)
        return
    first = _first_page[0]
    for source, target in (
        (storage._path(first), storage._path(key)),
        (storage._meta_path(first), storage._meta_path(key)),
    ):
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, target)


def count_events(settings: Settings) -> int:
    services = Services.build(settings)
    with services.db.session() as session:
        count = int(session.scalar(select(func.count()).select_from(Event)) or 0)
    services.db.dispose()
    return count


def ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, script: Path, seconds: int, name: str) -> Run:
    args = ["wrk", f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    out = subprocess.run(
        [*args, "-s", str(script), url], capture_output=True, text=True, check=True
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+(?:us|ms|s))\s*$", out, re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    parts = {k: re.fullmatch(r"([\d.]+)(us|ms|s)", v) for k, v in latency.items()}
    p50, p99 = (ms(*parts[k].groups()) for k in ("50", "99"))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Run(name, requests, rps, p50, p99, errors)


def server_cpu_seconds(server: subprocess.Popen[bytes]) -> float:
    """CPU time used so far by gunicorn's master and workers (user + system)."""
    master = psutil.Process(server.pid)
    total = 0.0
    for process in [master, *master.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (make bench installs it: Debian package wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-redirect-"))
    try:
        measure(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(tmp: Path) -> None:
    port = free_port()
    env = dict(os.environ, BILLREEL_DATA_DIR=str(tmp / "var"))
    env["BILLREEL_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    env["BILLREEL_EVENT_FLUSH_SECONDS"] = EVENT_FLUSH_SECONDS
    if os.environ.get("BENCH_DATABASE_URL"):
        env["BILLREEL_DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    settings = Settings.from_env(env)
    tokens = seed(settings)
    (tmp / "tokens.txt").write_text("\n".join(tokens) + "\n")
    gunicorn = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--no-control-socket",
        "--log-level",
        "warning",
        "app.wiring:create_app()",
    ]
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env)
    runs: list[Run] = []
    tracked = 0  # requests that each leave an event, warm-ups included
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        before = count_events(settings)
        for name, suffix in ENDPOINTS:
            script = tmp / f"bench{len(runs)}.lua"
            values = {"tokens": tmp / "tokens.txt", "suffix": suffix, "ua": PHONE_UA}
            script.write_text(LUA % values)
            warm = wrk(f"http://127.0.0.1:{port}", script, WARMUP_SECONDS, name)
            cpu_before = server_cpu_seconds(server)
            runs.append(wrk(f"http://127.0.0.1:{port}", script, SECONDS, name))
            # Pending events are written within the interval: wait, so their CPU counts too.
            time.sleep(float(EVENT_FLUSH_SECONDS) + 0.5)
            cpu = server_cpu_seconds(server) - cpu_before
            runs[-1].cpu_ms = 1000 * cpu / max(1, runs[-1].requests)
            if name != "/healthz":
                tracked += warm.requests + runs[-1].requests
    finally:
        server.terminate()  # gunicorn's workers write their pending events as they exit
        try:
            server.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            print("gunicorn did not stop in time: killed (pending events are lost)")
    events = count_events(settings) - before

    engine = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"gunicorn {WORKERS} sync workers, wrk {WRK_THREADS} threads x {CONNECTIONS} "
        f"connections, {SECONDS} s per run, {RENDERS} tokens, {engine}, "
        f"{os.cpu_count()} cores, load {' '.join(load)}, "
        f"BILLREEL_EVENT_FLUSH_SECONDS={EVENT_FLUSH_SECONDS}"
    )
    print("| endpoint | requests/s | p50 ms | p99 ms | errors | server CPU ms/request |")
    print("|---|---|---|---|---|---|")
    for run in runs:
        figures = f"{run.rps:,.0f} | {run.p50_ms:.1f} | {run.p99_ms:.1f} | {run.errors}"
        print(f"| {run.name} | {figures} | {run.cpu_ms:.2f} |")
    print(f"events recorded: {events} for {tracked} tracked requests (warm-ups included)")
    cores = os.cpu_count() or 1
    for run in runs:
        ceiling = cores * 1000 / run.cpu_ms if run.cpu_ms else 0
        print(f"{run.name}: CPU-bound ceiling of the server on {cores} cores: {ceiling:,.0f} req/s")
    for run in runs[1:]:
        ok = run.rps >= GOAL_RPS and run.p99_ms < GOAL_P99_MS
        verdict = "meets" if ok else "misses"
        print(f"{run.name}: {verdict} the goal (>= {GOAL_RPS} req/s, p99 < {GOAL_P99_MS:.0f} ms)")


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    main()
