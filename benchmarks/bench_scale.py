"""A billing run at scale: N bills through the API, two RQ workers, real Redis and S3 (moto).

Real processes, as in production on one machine: `billreel serve` (the API), `worker.py`
twice, redis-server and moto's S3 server, each on a free loopback port, SQLite in a
throwaway data directory. Two phases:

1. ingest: a separate API (its own data directory and Redis database, no workers) takes an
   INGEST_LINES-line NDJSON batch; lines per second and the API's peak memory;
2. run: the N-line batch is posted, then the workers start; wall time until every render
   is done or failed, renders per minute, and the peak memory of each worker's process tree
   (the worker, its work horse and the tools the horse runs), sampled every 0.5 s, and the
   CPU seconds per render (the workers' own and their reaped horses' and tools'), the figure
   that survives a busy machine: docs/scaling.md sizes a fleet from it.

Environment: BENCH_SCALE_BILLS (default 1000), BENCH_SCALE_INGEST_LINES (10000),
BENCH_SCALE_WORKERS (2), BENCH_SCALE_TIMEOUT_SECONDS (14400), BENCH_SCALE_OUTPUTS
(video,microsite). A quick check: `BENCH_SCALE_BILLS=6 .venv/bin/python benchmarks/bench_scale.py`.
Prints the figures (Markdown) and writes them as JSON to BENCH_SCALE_JSON when set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.realparts import free_port, start_redis, stop_process, wait_for_port  # noqa: E402
from tests.s3server import DUMMY_AWS_ENV, s3_client, start_moto_server  # noqa: E402

BILLS = int(os.environ.get("BENCH_SCALE_BILLS", "1000"))
INGEST_LINES = int(os.environ.get("BENCH_SCALE_INGEST_LINES", "10000"))
WORKERS = int(os.environ.get("BENCH_SCALE_WORKERS", "2"))
TIMEOUT_SECONDS = float(os.environ.get("BENCH_SCALE_TIMEOUT_SECONDS", "14400"))
OUTPUTS = os.environ.get("BENCH_SCALE_OUTPUTS", "video,microsite").split(",")
POLL_SECONDS = 2.0
SAMPLE_SECONDS = 0.5
PROGRESS_EVERY_SECONDS = 60.0
API_START_SECONDS = 120.0
MIB = 1024 * 1024


@dataclass
class MemoryWatch:
    """Peak RSS of process trees, sampled in a thread (psutil: children of children too)."""

    roots: dict[str, psutil.Process]
    peak_tree: dict[str, int] = field(default_factory=dict)
    peak_largest: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._loop, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            for name, root in self.roots.items():
                sizes = []
                try:
                    for proc in [root, *root.children(recursive=True)]:
                        try:
                            sizes.append(proc.memory_info().rss)
                        except psutil.Error:
                            continue
                except psutil.Error:
                    continue
                self.peak_tree[name] = max(self.peak_tree.get(name, 0), sum(sizes))
                self.peak_largest[name] = max(self.peak_largest.get(name, 0), max(sizes or [0]))


def make_ndjson(count: int, path: Path) -> Path:
    with open(path, "wb") as handle:
        subprocess.run(
            [sys.executable, str(ROOT / "tools" / "make_bills.py"), str(count), "--seed", "7"],
            stdout=handle,
            check=True,
        )
    if OUTPUTS != ["video", "microsite"]:
        lines = path.read_text(encoding="utf-8").splitlines()
        with open(path, "w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(json.dumps(json.loads(line) | {"outputs": OUTPUTS}) + "\n")
    return path


def start_api(env: dict[str, str], logs: Path, name: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with open(logs / f"{name}.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, timeout=API_START_SECONDS, process=process)
    return process, f"http://127.0.0.1:{port}"


def create_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "create", "bench"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def post_batch(base: str, key: str, ndjson: Path) -> tuple[dict[str, Any], float]:
    """POST the file as a stream; returns the body and the seconds the request took."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    started = time.perf_counter()
    with open(ndjson, "rb") as body:
        response = requests.post(f"{base}/v1/batches", data=body, headers=headers, timeout=3600)
    seconds = time.perf_counter() - started
    response.raise_for_status()
    accepted: dict[str, Any] = response.json()
    return accepted, seconds


def ingest_phase(base_env: dict[str, str], redis_url: str, work: Path) -> dict[str, Any]:
    """An INGEST_LINES batch into an API of its own (no worker takes its renders)."""
    env = base_env | {
        "BILLREEL_DATA_DIR": str(work / "ingest-var"),
        "BILLREEL_REDIS_URL": redis_url.rsplit("/", 1)[0] + "/1",
    }
    ndjson = make_ndjson(INGEST_LINES, work / "ingest.ndjson")
    key = create_key(env)
    api, base = start_api(env, work, "api-ingest")
    watch = MemoryWatch({"api": psutil.Process(api.pid)})
    watch.start()
    try:
        post_batch(base, key, make_ndjson(1, work / "warm-up.ndjson"))  # imports, first queries
        body, seconds = post_batch(base, key, ndjson)
    finally:
        watch.stop()
        stop_process(api)
    return {
        "lines": INGEST_LINES,
        "accepted": body["accepted"],
        "rejected": len(body["rejected"]),
        "seconds": round(seconds, 2),
        "lines_per_second": round(INGEST_LINES / seconds),
        "api_peak_mib": round(watch.peak_tree.get("api", 0) / MIB),
        "body_mib": round(ndjson.stat().st_size / MIB, 1),
    }


def batch_counts(base: str, key: str, batch_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    response = requests.get(f"{base}/v1/batches/{batch_id}", headers=headers, timeout=60)
    response.raise_for_status()
    counts: dict[str, Any] = response.json()
    return counts


def run_phase(env: dict[str, str], work: Path) -> dict[str, Any]:
    ndjson = make_ndjson(BILLS, work / "run.ndjson")
    key = create_key(env)
    api, base = start_api(env, work, "api-run")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        body, ingest_seconds = post_batch(base, key, ndjson)
        accepted = int(body["accepted"])
        started = time.monotonic()
        for n in range(WORKERS):
            with open(work / f"worker-{n}.log", "wb") as log:
                workers.append(
                    subprocess.Popen(
                        [sys.executable, str(ROOT / "worker.py")],
                        env=env,
                        cwd=ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        watch = MemoryWatch({f"worker-{n}": psutil.Process(w.pid) for n, w in enumerate(workers)})
        watch.start()
        counts = _wait_finished(base, key, body["id"], accepted, started)
        wall = time.monotonic() - started
        watch.stop()
        cpu_seconds = sum(_tree_cpu_seconds(w.pid) for w in workers)
        metrics = _render_seconds(base)
    finally:
        leftovers = [c for w in workers for c in _descendants(w.pid)]
        for process in workers:
            stop_process(process, timeout=60)  # SIGTERM: each finishes its render
        for child in leftovers:  # a horse still rendering after the timeout
            if child.is_running():
                child.kill()
        stop_process(api)
    finished = int(counts["done"]) + int(counts["failed"])
    return {
        "bills": BILLS,
        "accepted": accepted,
        "done": counts["done"],
        "failed": counts["failed"],
        "finished": finished,
        "workers": WORKERS,
        "outputs": OUTPUTS,
        "ingest_seconds": round(ingest_seconds, 2),
        "ingest_lines_per_second": round(BILLS / ingest_seconds),
        "wall_seconds": round(wall, 1),
        "renders_per_minute": round(finished / wall * 60, 2),
        "worker_peak_tree_mib": {k: round(v / MIB) for k, v in sorted(watch.peak_tree.items())},
        "worker_peak_process_mib": {
            k: round(v / MIB) for k, v in sorted(watch.peak_largest.items())
        },
        "render_seconds": metrics,
        "cpu_seconds_per_render": round(cpu_seconds / finished, 2) if finished else None,
    }


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return []


def _tree_cpu_seconds(pid: int) -> float:
    """CPU time of a worker and of every work horse (and its tools) it has reaped."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def _wait_finished(
    base: str, key: str, batch_id: str, accepted: int, started: float
) -> dict[str, Any]:
    last_report = started
    while True:
        counts = batch_counts(base, key, batch_id)
        finished = int(counts["done"]) + int(counts["failed"])
        now = time.monotonic()
        if finished >= accepted or now - started > TIMEOUT_SECONDS:
            return counts
        if now - last_report >= PROGRESS_EVERY_SECONDS:
            last_report = now
            rate = finished / (now - started) * 60
            print(
                f"  {now - started:7.0f} s  {finished}/{accepted} finished "
                f"({counts['failed']} failed), {rate:.1f} renders/min, "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        time.sleep(POLL_SECONDS)


def _render_seconds(base: str) -> dict[str, Any]:
    """Mean render seconds per output set, from the API's /metrics (when it has them)."""
    try:
        text = requests.get(f"{base}/metrics", timeout=30).text
    except requests.RequestException:
        return {}
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("billreel_render_seconds_"):
            continue
        name, _, value = line.rpartition(" ")
        labels = name[name.find("{") + 1 : name.rfind("}")]
        if 'status="done"' not in labels:
            continue
        outputs = labels.split('outputs="', 1)[1].split('"', 1)[0]
        if name.startswith("billreel_render_seconds_sum"):
            sums[outputs] = float(value)
        elif name.startswith("billreel_render_seconds_count"):
            counts[outputs] = float(value)
    return {k: {"renders": int(counts[k]), "mean": round(sums[k] / counts[k], 2)} for k in counts}


def main() -> None:
    machine = {
        "cores": os.cpu_count(),
        "load_at_start": round(os.getloadavg()[0], 1),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        redis = start_redis(work / "redis")
        moto = start_moto_server(work / "moto")
        try:
            base_env = {k: v for k, v in os.environ.items() if not k.startswith("BILLREEL_")}
            base_env |= DUMMY_AWS_ENV | {
                "BILLREEL_RATE_LIMIT": "100000/minute",
                "BILLREEL_PUBLIC_URL": "https://bills.example.test",
            }
            bucket = "billreel-bench"
            s3_client(moto.endpoint_url).create_bucket(Bucket=bucket)
            print(f"ingest: {INGEST_LINES} lines ...", flush=True)
            ingest = ingest_phase(base_env, redis.url, work)
            print(f"run: {BILLS} bills, {WORKERS} workers, outputs {OUTPUTS} ...", flush=True)
            env = base_env | {
                "BILLREEL_DATA_DIR": str(work / "var"),
                "BILLREEL_REDIS_URL": redis.url,
                "BILLREEL_S3_BUCKET": bucket,
                "BILLREEL_S3_ENDPOINT_URL": moto.endpoint_url,
            }
            run = run_phase(env, work)
        finally:
            stop_process(moto.process)
            stop_process(redis.process)
    machine["load_at_end"] = round(os.getloadavg()[0], 1)
    figures = {"machine": machine, "ingest": ingest, "run": run}
    report(figures)
    target = os.environ.get("BENCH_SCALE_JSON")
    if target:
        Path(target).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {target}")


def report(figures: dict[str, Any]) -> None:
    ingest, run, machine = figures["ingest"], figures["run"], figures["machine"]
    tree = run["worker_peak_tree_mib"]
    largest = run["worker_peak_process_mib"]
    print(
        f"\nmachine: {machine['cores']} cores, load {machine['load_at_start']} at start, "
        f"{machine['load_at_end']} at end, {machine['date']}"
    )
    print("| figure | value |\n|---|---|")
    print(
        f"| ingest, {ingest['lines']} lines ({ingest['body_mib']} MiB) | "
        f"{ingest['seconds']} s = **{ingest['lines_per_second']} lines/s**, API peak "
        f"{ingest['api_peak_mib']} MiB |"
    )
    print(
        f"| ingest of the run's {run['bills']} lines | {run['ingest_seconds']} s = "
        f"{run['ingest_lines_per_second']} lines/s |"
    )
    print(
        f"| renders finished | {run['finished']}/{run['accepted']} "
        f"({run['done']} done, {run['failed']} failed), outputs {','.join(run['outputs'])} |"
    )
    print(f"| wall time ({run['workers']} workers) | {run['wall_seconds']} s |")
    print(f"| renders per minute | **{run['renders_per_minute']}** |")
    for name in sorted(tree):
        print(
            f"| peak memory, {name} | {tree[name]} MiB process tree, largest process "
            f"{largest.get(name, 0)} MiB |"
        )
    for outputs, figure in sorted(run["render_seconds"].items()):
        print(f"| mean render seconds ({outputs}) | {figure['mean']} s over {figure['renders']} |")
    if run["cpu_seconds_per_render"] is not None:
        print(
            f"| CPU seconds per render (workers, horses, tools) | {run['cpu_seconds_per_render']} |"
        )
    if run["finished"]:
        per_worker = run["wall_seconds"] * run["workers"] / run["finished"]
        print(f"| worker-seconds per render | {per_worker:.1f} s |")


if __name__ == "__main__":
    main()
