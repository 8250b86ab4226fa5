"""Time to first frame of a video made on open: real Chromium against the real service.

Real processes on one machine: `billreel serve` (the API and the customer links), one
`worker.py` (warmed by its own warm-up, `BILLREEL_WORKER_QUEUES=ondemand`: kept for
customers), redis-server, moto's S3 server, SQLite. N bills (tools/make_bills.py, a 30 s
1280x720 narrated video each, eSpeak NG) are accepted with `"video": "on_open"`; their pages
are made first (no video coded). Then, for each fresh link in turn, a new browser context
(a person's user agent) opens the page, whose script plays the video as soon as it can
(muted; a person's tap would come later, so this is the service's part); the time is from
the page's navigation start (before its first request) to the first picture past the start
presented while playing (requestVideoFrameCallback: the video playing as a person sees it),
and to the first `timeupdate` with currentTime > 0 (Chromium's timer, some 0.25 s later),
read from the page's own clock. One warm-up link per locale first (shared
scenes cached per locale, as in a billing run's steady state). Median and p95, then again
while a batch of up-front renders keeps a second worker (`BILLREEL_WORKER_QUEUES=batch`)
busy.

Also the CPU a video costs each way: up front (a render with video and page) and on open
(the page's run plus the video's run), twice: the jobs themselves in one warmed process
(`--cpu` bills, the figure to size a fleet from), and as the workers' reaped work horses
measured them during the run (on the batch worker for up front, on the on-demand worker
over the links), which adds what a forked horse costs per job.

    .venv/bin/python benchmarks/bench_first_frame.py [--n 20] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.videobench import machine, p95  # noqa: E402
from tests.realparts import (  # noqa: E402
    CHROMIUM_ARGS,
    free_port,
    start_redis,
    stop_process,
    wait_for_port,
)
from tests.s3server import DUMMY_AWS_ENV, s3_client, start_moto_server  # noqa: E402

GOAL_MEDIAN_S = 1.0
GOAL_P95_S = 2.0
PERSON_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
CHROMIUM = os.environ.get("BENCH_CHROMIUM", "/usr/bin/chromium")
WAIT_S = float(os.environ.get("BENCH_WAIT_SECONDS", "600"))
TRACE = bool(os.environ.get("BENCH_TRACE"))
VIDEO_STATE_SCRIPT = """() => { const v = document.querySelector("video"); return {
  currentTime: v.currentTime, paused: v.paused, readyState: v.readyState,
  networkState: v.networkState, error: v.error && v.error.code, src: Boolean(v.currentSrc),
  presented: window.__presented, timeupdate: window.__timeupdate, events: window.__events,
  hls: Boolean(window.Hls)}; }"""
RESOURCES_SCRIPT = """() => [
  ...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource"),
].map(e => [e.startTime, e.responseStart, e.responseEnd].map(Math.round).join("-") + " ms "
  + `${e.name.replace(/^https?:[/][/][^/]+/, "").replace(/[/]r[/][^/]+/, "/r/TOKEN").slice(0, 70)}`
  + ` (${e.transferSize || e.encodedBodySize} B)`)"""
# Plays the page's video as soon as the page has it, and notes when it is first seen to
# play: the first picture past the start presented on screen (requestVideoFrameCallback,
# as a person sees it), and the first `timeupdate` past 0 (Chromium sends one every 250 ms
# or so, so it comes up to that much later).
FIRST_FRAME_SCRIPT = """
document.addEventListener("DOMContentLoaded", () => {
  const v = document.querySelector("video");
  if (!v) { return; }
  v.muted = true;
  window.__events = [];  // the element's story, printed if it never plays
  const note = (what) => window.__events.push(`${Math.round(performance.now())} ${what}`);
  for (const name of ["play", "pause", "playing", "emptied", "loadstart", "abort", "waiting",
                      "canplay", "loadedmetadata"]) {
    v.addEventListener(name, () => note(name));
  }
  v.addEventListener("timeupdate", () => {
    if (v.currentTime > 0 && window.__timeupdate === undefined) {
      window.__timeupdate = performance.now();
    }
  });
  const seen = (now, frame) => {
    if (frame.mediaTime > 0 && !v.paused) { window.__presented = now; return; }
    v.requestVideoFrameCallback(seen);
  };
  v.requestVideoFrameCallback(seen);
  note("asked to play");
  const p = v.play(); if (p && p.catch) { p.catch((e) => note(`play refused: ${e}`)); }
});
"""


def bills(n: int) -> list[dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_bills.py"), str(n), "--seed", "19"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as handle:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)


def tree_cpu(process: subprocess.Popen[bytes]) -> float:
    """CPU seconds of the work horses (and their tools: ffmpeg, eSpeak NG) a worker has
    reaped: the jobs' own, without the worker's idle threads (sweeper, dispatcher, RQ's
    heartbeats), which tick on while a benchmark waits."""
    times = psutil.Process(process.pid).cpu_times()
    return float(times.children_user + times.children_system)


def wait(check: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


class Service:
    def __init__(self, base: str, key: str) -> None:
        self.base, self.auth = base, {"Authorization": f"Bearer {key}"}

    def accept(self, line: dict[str, Any], on_open: bool) -> dict[str, Any]:
        body = line | ({"video": "on_open"} if on_open else {})
        response = requests.post(f"{self.base}/v1/renders", json=body, headers=self.auth,
                                 timeout=60)  # fmt: skip
        response.raise_for_status()
        accepted: dict[str, Any] = response.json()
        return accepted

    def render(self, render_id: str) -> dict[str, Any]:
        response = requests.get(f"{self.base}/v1/renders/{render_id}", headers=self.auth,
                                timeout=60)  # fmt: skip
        body: dict[str, Any] = response.json()
        return body


def first_frame(browser: Any, url: str) -> tuple[float, float]:
    """Seconds from navigation start to the first picture past 0 presented, and to the first
    `timeupdate` past 0."""
    context = browser.new_context(user_agent=PERSON_AGENT)
    try:
        context.add_init_script(FIRST_FRAME_SCRIPT)
        page = context.new_page()
        page.on("console", lambda m: print(f"  page: {m.text}", file=sys.stderr))
        page.goto(url, wait_until="domcontentloaded")
        try:
            page.wait_for_function(
                "() => window.__presented !== undefined && window.__timeupdate !== undefined",
                timeout=WAIT_S * 1000,
            )
        except Exception:
            state = page.evaluate(VIDEO_STATE_SCRIPT)
            raise SystemExit(f"the video never played: {state}") from None
        presented, timeupdate = page.evaluate("() => [window.__presented, window.__timeupdate]")
        if TRACE:  # where the page's time went: each request's start and end, in ms
            for entry in page.evaluate(RESOURCES_SCRIPT):
                print(f"    {entry}", file=sys.stderr)
        return presented / 1000, timeupdate / 1000
    finally:
        context.close()


def measure(
    browser: Any, service: Service, renders: list[dict[str, Any]]
) -> list[tuple[float, float]]:
    times = []
    for render in renders:
        presented, timeupdate = first_frame(browser, render["links"]["microsite"])
        times.append((presented, timeupdate))
        print(f"  {presented:.3f} s presented, {timeupdate:.3f} s timeupdate", flush=True)
        wait(lambda r=render: service.render(r["id"])["video"]["status"] == "done", "a video")
    return times


def cpu_each_way(lines: list[dict[str, Any]], work: Path) -> dict[str, float]:
    """CPU seconds (this process and the tools it waited for) of the jobs themselves, run in
    a warmed process one after another, no queue: a render made up front; a render made on
    open, its page's run and its video's run. Each kind runs once first, unmeasured."""
    import resource

    from app.access.keys import create_key
    from app.infra.settings import Settings
    from app.ondemand.job import run_video_with
    from app.ondemand.request import ask_for_video
    from app.rendering.job import run_render_with
    from app.wiring import create_app
    from renderers.warm import warm_up

    warm_up()
    app = create_app(Settings(data_dir=work / "cpu", public_url="https://bills.example.test"),
                     start_queue=False)  # fmt: skip
    services = app.extensions["billreel"]
    auth = {"Authorization": f"Bearer {create_key(services.db, 'cpu')}"}
    client = app.test_client()

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    totals = {"up_front": 0.0, "page_on_open": 0.0, "video_on_open": 0.0}
    for index, line in enumerate(lines):
        for on_open in (False, True):
            body = line | ({"video": "on_open"} if on_open else {})
            render_id = client.post("/v1/renders", json=body, headers=auth).get_json()["id"]
            before = cpu()
            assert run_render_with(services, render_id) == "done"
            page = cpu() - before
            if on_open:
                assert ask_for_video(services, render_id)
                before = cpu()
                assert run_video_with(services, render_id) == "done"
                video = cpu() - before
            if index == 0:
                continue  # warming: the first of each kind loads what the rest reuse
            if on_open:
                totals["page_on_open"] += page
                totals["video_on_open"] += video
            else:
                totals["up_front"] += page
    services.db.dispose()
    return {k: round(v / (len(lines) - 1), 3) for k, v in totals.items()}


def figures(times: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(times), 3), "p95_s": round(p95(times), 3),
            "min_s": round(min(times), 3), "max_s": round(max(times), 3)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20, help="fresh links measured per phase")
    parser.add_argument("--batch", type=int, default=60, help="up-front renders kept busy")
    parser.add_argument("--cpu", type=int, default=6, help="bills for the CPU each way")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.cpu:
        with tempfile.TemporaryDirectory(prefix="bench-first-frame-cpu-") as tmp:
            each_way = cpu_each_way(bills(args.cpu), Path(tmp))
        print(f"CPU each way (in process): {each_way}", flush=True)
    from playwright.sync_api import sync_playwright

    lines = bills(2 * args.n + args.batch)
    # One warm-up link per locale: shared scenes are cached per locale, as in a run's
    # steady state (the fresh links' own scenes are never cached: they are personal).
    locales = {line["data"]["customer"].get("locale") for line in lines[: 2 * args.n]}
    warmups = [next(line for line in lines if line["data"]["customer"].get("locale") == loc)
               for loc in sorted(locales, key=str)]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-first-frame-") as tmp:
        work = Path(tmp)
        redis = start_redis(work / "redis")
        moto = start_moto_server(work / "moto")
        processes: list[subprocess.Popen[bytes]] = []
        try:
            bucket = "billreel-bench"
            s3_client(moto.endpoint_url).create_bucket(Bucket=bucket)
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("BILLREEL_")}
            env |= DUMMY_AWS_ENV | {
                "BILLREEL_DATA_DIR": str(work / "var"), "BILLREEL_REDIS_URL": redis.url,
                "BILLREEL_S3_BUCKET": bucket, "BILLREEL_S3_ENDPOINT_URL": moto.endpoint_url,
                "BILLREEL_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "BILLREEL_RATE_LIMIT": "100000/minute",
            }  # fmt: skip
            key = subprocess.run(
                [sys.executable, "-m", "app.cli", "keys", "create", "bench"], env=env, cwd=ROOT,
                capture_output=True, text=True, check=True,
            ).stdout.strip().splitlines()[-1]  # fmt: skip
            api = start([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], env,
                        work / "api.log")  # fmt: skip
            processes.append(api)
            wait_for_port(port, timeout=120, process=api)
            service = Service(f"http://127.0.0.1:{port}", key)
            ondemand = start(
                [sys.executable, "worker.py"],
                env | {"BILLREEL_WORKER_QUEUES": "ondemand"},
                work / "ondemand.log",
            )
            processes.append(ondemand)
            from redis import Redis

            with Redis.from_url(redis.url) as connection:  # warmed up: RQ knows the worker
                wait(lambda: connection.scard("rq:workers"), "the worker")
            idle_cpu = tree_cpu(ondemand)
            warm = [service.accept(line, True) for line in warmups]
            fresh = [service.accept(line, True) for line in lines[: 2 * args.n]]
            # The pages first (the ondemand worker takes POST /v1/renders' jobs).
            for render in [*warm, *fresh]:
                wait(lambda r=render: service.render(r["id"])["status"] == "done", "a page")
            pages_cpu = tree_cpu(ondemand) - idle_cpu
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
                )
                print(f"{len(warm)} warm-up links (one per locale) ...", flush=True)
                measure(browser, service, warm)
                after_warm = tree_cpu(ondemand)
                print(f"{args.n} fresh links, the worker idle ...", flush=True)
                idle = measure(browser, service, fresh[: args.n])
                videos_cpu = tree_cpu(ondemand) - after_warm
                # A second worker on both queues, kept busy by a billing run.
                batch = start(
                    [sys.executable, "worker.py"],
                    env | {"BILLREEL_WORKER_QUEUES": "batch"},
                    work / "batch.log",
                )
                processes.append(batch)
                body = "\n".join(json.dumps(line) for line in lines[2 * args.n :])
                posted = requests.post(
                    f"{service.base}/v1/batches", data=body.encode(), timeout=120,
                    headers=service.auth | {"Content-Type": "application/x-ndjson"},
                )  # fmt: skip
                posted.raise_for_status()
                batch_id = posted.json()["id"]
                batch_counts = f"{service.base}/v1/batches/{batch_id}"
                wait(lambda: requests.get(batch_counts, headers=service.auth, timeout=60)
                     .json()["done"] >= 1, "the batch to start")  # fmt: skip
                done_before = requests.get(batch_counts, headers=service.auth, timeout=60).json()
                batch_cpu_before = tree_cpu(batch)
                print(f"{args.n} fresh links, a batch keeping another worker busy ...", flush=True)
                busy = measure(browser, service, fresh[args.n :])
                done_after = requests.get(batch_counts, headers=service.auth, timeout=60).json()
                batch_cpu = tree_cpu(batch) - batch_cpu_before
                browser.close()
            if os.environ.get("BENCH_SHOW_LOGS"):
                for log in sorted(work.glob("*.log")):
                    print(f"--- {log.name}\n{log.read_text(errors='replace')}", file=sys.stderr)
        except BaseException:
            for log in sorted(work.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
            raise
        finally:
            for process in reversed(processes):
                stop_process(process)
            stop_process(moto.process)
            stop_process(redis.process)
    batch_done = int(done_after["done"]) - int(done_before["done"])
    result = {
        "machine": machine(),
        "links": args.n,
        "idle": figures([p for p, _ in idle]),
        "busy": figures([p for p, _ in busy]),
        "idle_timeupdate": figures([t for _, t in idle]),
        "busy_timeupdate": figures([t for _, t in busy]),
        "cpu_s": {
            "page_on_open": round(pages_cpu / (2 * args.n + len(warm)), 3),
            "video_on_open": round(videos_cpu / args.n, 3),
            "up_front": round(batch_cpu / batch_done, 3) if batch_done else None,
            "up_front_renders_measured": batch_done,
        },
        "cpu_s_in_process": each_way if args.cpu else None,
        "goal": {"median_s": GOAL_MEDIAN_S, "p95_s": GOAL_P95_S},
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
