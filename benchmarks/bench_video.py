"""Video render speed: N varied bills (tools/make_bills.py), each rendered in a child process,
two at a time on the 2 cores; side by side with (a) a straightforward MoviePy composition of
the same story (benchmarks/moviepy_baseline.py) and (b) the floor: ffmpeg encoding, with the
renderer's settings, only the frames that differ per customer (the personal scenes, from
yuv420p frames prepared beforehand, no drawing, no audio, no join).

    .venv/bin/python benchmarks/bench_video.py [--n 50] [--narrated 10] [--cfr 10] [--floor 10]
        [--baseline 3] [--json FILE]

Per video: CPU-seconds (user + system of the render and of its ffmpeg processes; Python
start-up, imports and the worker's warm-up excluded: a worker pays them once, before it forks
a horse per render, see renderers/warm.py), wall seconds, peak memory (the largest resident
set of the render process or one of its ffmpeg); videos per minute from two warmed-up
workers (2 x 60 s over a render's mean wall time, each measured beside another). The
shared-scene cache is warmed first with one bill per locale: the steady state of a billing
run. The main rows render without narration (the tone bed), like the baseline and the
floor; a second row adds eSpeak NG narration, the service's default voice; a last row
renders at a constant 30 fps (every frame coded) instead of the default variable rate
(renderers/video/encode.py, VARIABLE_RATE), to show what that choice is worth. The floor is
measured in alternating turns with renders of the same bills (two at a time, like the main
row) and the ratio taken between those: the machine's speed drifts too much from one minute
to the next for rows measured apart.
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
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.videobench import (
    Meter,
    bills,
    load,
    machine,
    measured_run,
    summary,
)

HERE = Path(__file__).resolve()
BASELINE = HERE.parent / "moviepy_baseline.py"
JOBS = 2  # renders at once: one per core
GOAL_CPU_PER_30S = 3.0
GOAL_SPEEDUP = 10.0
GOAL_OVER_FLOOR = 1.5


def _probe_seconds(video: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
         str(video)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout)


def _one(
    bill_file: Path, workdir: Path, cache: Path, voice_name: str, rate: str
) -> dict[str, float]:
    """Child: one render, measured; `rate` "cfr" codes every frame at a constant 30 fps."""
    import renderers.video.encode
    from renderers import render
    from renderers.templates import load_bundle
    from renderers.video.cache import CACHE_DIR_ENV
    from renderers.voice import voice_by_name
    from renderers.warm import warm_up

    os.environ[CACHE_DIR_ENV] = str(cache)
    renderers.video.encode.VARIABLE_RATE = rate != "cfr"
    warm_up()  # as the worker does before it forks the horse that renders
    bundle = load_bundle("bill-explainer")
    voice = None if voice_name == "none" else voice_by_name(voice_name)
    bill = json.loads(bill_file.read_text(encoding="utf-8"))
    with Meter() as m:
        render(bill, bundle, ["video"], workdir, voice=voice)
    return {"cpu": m.cpu, "wall": m.wall, "peak_mb": m.peak_mb,
            "seconds": _probe_seconds(workdir / "video.mp4")}  # fmt: skip


def _floor(bill_file: Path, workdir: Path) -> dict[str, float]:
    """Child: x264, with the renderer's settings, on the frames of the bill's personal
    scenes. Its distinct frames are drawn and converted to yuv420p first, exactly as the
    renderer sends them (not measured); the measured ffmpeg holds them with the renderer's
    timestamp chain and frame rate (each distinct image coded once by default)."""
    from renderers.ffmpeg import ffmpeg_exe
    from renderers.story import facts as bill_facts
    from renderers.templates import load_bundle
    from renderers.video import Job, plan_video
    from renderers.video.compose import draw_runs, scene_plan
    from renderers.video.encode import BITEXACT, VARIABLE_RATE, sent
    from renderers.video.formats import FPS

    workdir.mkdir(parents=True, exist_ok=True)
    bundle = load_bundle("bill-explainer")
    bill = json.loads(bill_file.read_text(encoding="utf-8"))
    facts = bill_facts(bill, bundle.locale)
    job = Job(bundle.name, bundle.spec, bundle.scenes_dir,
              bundle.narration.for_locale(facts.locale))  # fmt: skip
    narration = bundle.narration.filled(facts.locale, facts.placeholders())
    fmt, planned, _ = plan_video(bill, facts, job, narration, workdir)
    size = f"{fmt.width}x{fmt.height}"
    distinct = workdir / "distinct.yuv"
    personal = [(p, scene_plan(p.scene, p.layers, p.frames)) for p in planned if not p.scene.shared]
    counts = [count for _, plan in personal for _, count in plan]
    runs = (run for p, plan in personal for run in draw_runs(plan, p.layers, p.ctx))
    frames, rate = sent(runs, counts, fmt, VARIABLE_RATE)
    with distinct.open("wb") as sink:
        sink.writelines(frames)
    row = measured_run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
         "-video_size", size, "-framerate", str(FPS), "-i", str(distinct), *rate, "-an",
         *BITEXACT, str(workdir / "floor.mp4")]
    )  # fmt: skip
    distinct.unlink()
    return {**row, "seconds": sum(counts) / FPS}


def _child(args: Sequence[str], script: Path = HERE) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"{script.name} {' '.join(args)} failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


def _parallel(
    work: Callable[[Path], dict[str, Any]], files: Sequence[Path]
) -> tuple[list[dict[str, Any]], float]:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        rows = list(pool.map(work, files))
    return rows, time.perf_counter() - start


def _paired(over: Sequence[dict[str, Any]], under: Sequence[dict[str, Any]]) -> float:
    """Median over the same bills of CPU(over) / CPU(under)."""
    ratio: float = statistics.median(a["cpu"] / b["cpu"] for a, b in zip(over, under, strict=False))
    return ratio


def _per_minute(rows: Sequence[dict[str, Any]]) -> float:
    """Videos a minute from JOBS warmed-up workers: JOBS x 60 s over a render's mean wall
    time, measured while another ran beside it (a child's start-up and warm-up, which a
    worker pays once, left out)."""
    return JOBS * 60 / statistics.fmean(r["wall"] for r in rows)


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="bills rendered by billreel")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--narrated", type=int, default=10, help="bills rendered with eSpeak NG")
    ap.add_argument("--cfr", type=int, default=10, help="bills rendered at a constant 30 fps")
    ap.add_argument("--floor", type=int, default=10, help="bills for the ffmpeg floor")
    ap.add_argument("--baseline", type=int, default=3, help="bills for the MoviePy baseline")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--one", nargs=5, help=argparse.SUPPRESS)
    ap.add_argument("--floor-one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        bill, workdir, cache, voice, rate = args.one
        print(json.dumps(_one(Path(bill), Path(workdir), Path(cache), voice, rate)))
        return
    if args.floor_one:
        print(json.dumps(_floor(*(Path(a) for a in args.floor_one))))
        return

    print(f"machine: {machine()}; load at start {load()}", flush=True)
    data = bills(args.n, args.seed)
    figures: dict[str, Any] = {"machine": machine(), "load_start": load()}
    with tempfile.TemporaryDirectory(prefix="bench-video-") as tmp:
        root = Path(tmp)
        files = []
        for i, bill in enumerate(data):
            f = root / f"bill{i:03d}.json"
            f.write_text(json.dumps(bill, ensure_ascii=False), encoding="utf-8")
            files.append(f)
        cache = root / "scene-cache"

        def ours(
            voice: str, rate: str = "vfr", run: str = "main"
        ) -> Callable[[Path], dict[str, Any]]:
            return lambda f: _child(["--one", str(f), str(root / f"{run}-{voice}-{rate}-{f.stem}"),
                                     str(cache), voice, rate])  # fmt: skip

        # Warm the shared-scene cache: one bill per locale (a billing run's first minutes).
        first: dict[str, Path] = {}
        for f, bill in zip(files, data, strict=True):
            first.setdefault(bill["customer"]["locale"], f)
        for f in first.values():
            for rate in ("vfr", "cfr") if args.cfr > 0 else ("vfr",):
                _child(["--one", str(f), str(root / f"warm-{rate}-{f.stem}"), str(cache),
                        "none", rate])  # fmt: skip
        entries = len(list(cache.iterdir()))

        rows, elapsed = _parallel(ours("none"), files)
        missed = len(list(cache.iterdir())) - entries
        figures["ours"] = summary("billreel, tone bed, 2 at a time", rows)
        figures["ours"]["videos_per_minute"] = _per_minute(rows)
        figures["ours"]["videos_per_minute_with_start"] = len(rows) / elapsed * 60
        print(f"{'':<40} videos per minute on {JOBS} cores: "
              f"{figures['ours']['videos_per_minute']:.1f} ({len(rows) / elapsed * 60:.1f} "
              f"counting each child's start and warm-up); cache entries made during the "
              f"run (misses): {missed}", flush=True)  # fmt: skip

        if args.narrated > 0:
            narrated, _ = _parallel(ours("espeak"), files[: args.narrated])
            figures["narrated"] = summary("billreel, eSpeak NG narration", narrated)
            figures["narrated"]["videos_per_minute"] = _per_minute(narrated)
            print(f"{'':<40} videos per minute on {JOBS} cores: "
                  f"{figures['narrated']['videos_per_minute']:.1f}", flush=True)  # fmt: skip

        if args.cfr > 0:
            cfr, _ = _parallel(ours("none", "cfr"), files[: args.cfr])
            figures["cfr"] = summary("constant 30 fps (not the default)", cfr)
            figures["cfr"]["videos_per_minute"] = _per_minute(cfr)
            figures["vfr_speedup"] = _paired(cfr, rows)
            print(f"{'':<40} videos per minute on {JOBS} cores: "
                  f"{figures['cfr']['videos_per_minute']:.1f}; CPU constant / variable rate "
                  f"(same bills): {figures['vfr_speedup']:.2f}x", flush=True)  # fmt: skip

        if args.floor > 0:
            # Renders and floors of the same bills in alternating turns of two (one per core,
            # as in the main row): this machine's speed drifts by up to a third within
            # minutes, so rows measured minutes apart would give a ratio of the drift as much
            # as of the renderer.
            pairs = []
            chosen = files[: args.floor]
            for turn in range(0, len(chosen), JOBS):
                group = chosen[turn : turn + JOBS]
                rendered, _ = _parallel(ours("none", "vfr", "beside-floor"), group)
                floors, _ = _parallel(
                    lambda f: _child(["--floor-one", str(f), str(root / f"floor-{f.stem}")]), group
                )
                pairs += zip(rendered, floors, strict=True)
            beside = [r for r, _ in pairs]
            floor = [a for _, a in pairs]
            figures["beside_floor"] = summary("billreel, in turns with the floor", beside)
            figures["floor"] = summary("floor: x264 on the personal frames", floor)
            figures["over_floor"] = _paired(beside, floor)
            print(f"billreel / floor (CPU, median over the same bills, in alternating turns): "
                  f"{figures['over_floor']:.2f}x", flush=True)  # fmt: skip

        if args.baseline > 0:
            baseline, _ = _parallel(
                lambda f: _child([str(f), str(root / f"moviepy-{f.stem}")], BASELINE),
                files[: args.baseline],
            )
            figures["baseline"] = summary("(a) MoviePy baseline, 2 at a time", baseline)
            figures["speedup"] = _paired(baseline, rows)
            print(f"speed-up over MoviePy (CPU, median over the same bills): "
                  f"{figures['speedup']:.1f}x", flush=True)  # fmt: skip

    figures["load_end"] = load()
    print(f"load at end {figures['load_end']}")
    per30 = figures["ours"]["cpu_per_30s"]
    print(f"goal: median <= {GOAL_CPU_PER_30S} CPU-s per 30 s of video: {per30:.2f} "
          f"({_verdict(per30 <= GOAL_CPU_PER_30S)})")  # fmt: skip
    if "speedup" in figures:
        print(f"goal: >= {GOAL_SPEEDUP:.0f}x faster than MoviePy: {figures['speedup']:.1f}x "
              f"({_verdict(figures['speedup'] >= GOAL_SPEEDUP)})")  # fmt: skip
    if "over_floor" in figures:
        print(f"goal: <= {GOAL_OVER_FLOOR}x the floor: {figures['over_floor']:.2f}x "
              f"({_verdict(figures['over_floor'] <= GOAL_OVER_FLOOR)})")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print("figures go to docs/benchmarks.md, section ## Video")


if __name__ == "__main__":
    main()
