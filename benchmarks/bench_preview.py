"""The studio's live preview: a warm frame at a random time, the grid, the publish checks.

Frames: every sample ending in three locales (Italian, Arabic, Thai) and every format is
planned once (warm: what the studio keeps between requests); then frames at random times
of random samples are drawn and encoded as PNG, as `app.preview.stills` serves them (the
LRU bypassed: each is a new frame). A first frame after a save (a new bundle object: the
video planned again) is timed apart. Then the grid of three scenes over the whole sample
set (5 endings x 8 locales x 3 formats) and the publish checks, in one process and on the
worker pool (both cores; its start, a one-time cost, reported apart).

Goal (issue 17): a warm frame in at most 300 ms at the median and 1 s at p95, on this
2-core machine. Prints the figures, the command and the machine.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.preview import pool  # noqa: E402
from app.preview.checks import publish_checks  # noqa: E402
from app.preview.grid import grid  # noqa: E402
from app.preview.samples import ENDINGS, sample_bill  # noqa: E402
from app.preview.stills import Frame  # noqa: E402
from renderers.preview import Preview  # noqa: E402
from renderers.templates import TemplateBundle, load_bundle  # noqa: E402
from renderers.video.formats import FORMAT_NAMES  # noqa: E402

FRAMES = int(os.environ.get("BENCH_PREVIEW_FRAMES", "300"))
FIRST_FRAMES = 20
LOCALES = ("it", "ar", "th")
GRID_SCENES = ("total", "breakdown", "ending")
RUNS = int(os.environ.get("BENCH_PREVIEW_RUNS", "3"))
SEED = 17
GOAL_MEDIAN_S, GOAL_P95_S = 0.300, 1.0


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return f"{pool.cores()} cores, {model}, load average {load}"


def timed(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"{label}: median {statistics.median(ms):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
            f"max {max(ms):.0f} ms ({len(ms)} frames)")  # fmt: skip


def frames(bundle: TemplateBundle) -> tuple[list[float], list[float], list[float]]:
    """Warm frames (wall and CPU seconds each) and first frames after a save (wall)."""
    rng = random.Random(SEED)  # noqa: S311  # times to draw, not secrets
    previews = {
        (ending, locale, f): Preview(sample_bill(ending, locale), bundle, f)
        for ending in ENDINGS for locale in LOCALES for f in FORMAT_NAMES
    }  # fmt: skip
    for preview in list(previews.values())[:: len(FORMAT_NAMES)]:
        Frame.of(preview.frame_at(0.0))  # fonts and glyph caches warm, as in a running studio
    wall, cpu = [], []
    for _ in range(FRAMES):
        preview = previews[rng.choice(list(previews))]
        t = rng.uniform(0, preview.duration)
        w0, c0 = time.perf_counter(), time.process_time()
        frame = Frame.of(preview.frame_at(t))
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
        assert frame.png
    first = []
    for _ in range(FIRST_FRAMES):
        draft = dataclasses.replace(bundle)  # a saved draft: another bundle, planned afresh
        ending, locale, f = rng.choice(list(previews))
        w0 = time.perf_counter()
        Frame.of(Preview(sample_bill(ending, locale), draft, f).frame_at(rng.uniform(0, 30)))
        first.append(time.perf_counter() - w0)
    return wall, cpu, first


def main() -> None:
    print(f"command: .venv/bin/python benchmarks/bench_preview.py (FRAMES={FRAMES}, RUNS={RUNS})")
    print(f"machine: {machine()}")
    bundle = load_bundle("bill-explainer")
    wall, cpu, first = frames(bundle)
    print(timed("warm frame + PNG, wall", wall))
    print(timed("warm frame + PNG, CPU", cpu))
    print(timed("first frame after a save (planned afresh) + PNG, wall", first))
    median, p95 = statistics.median(wall), percentile(wall, 95)
    verdict = "meets" if median <= GOAL_MEDIAN_S and p95 <= GOAL_P95_S else "MISSES"
    print(f"goal median <= {GOAL_MEDIAN_S * 1000:.0f} ms, p95 <= {GOAL_P95_S * 1000:.0f} ms: "
          f"{verdict}")  # fmt: skip
    w0 = time.perf_counter()
    pool.start()  # spawned, imports, bundles and fonts loaded: once per server process
    print(f"worker pool start: {time.perf_counter() - w0:.2f} s wall")
    w0 = time.perf_counter()
    grid(bundle, GRID_SCENES[0], workers=None)
    print(f"first grid on the pool: {time.perf_counter() - w0:.2f} s wall")
    cells = 5 * len(bundle.narration.locales) * len(FORMAT_NAMES)
    for scene in GRID_SCENES:
        w0, c0 = time.perf_counter(), time.process_time()
        grid(bundle, scene, workers=1)
        one = (time.perf_counter() - w0, time.process_time() - c0)
        w0 = time.perf_counter()
        grid(bundle, scene, workers=None)
        both = time.perf_counter() - w0
        print(f"grid {scene} ({cells} cells): one process {one[0]:.2f} s wall ({one[1]:.2f} s "
              f"CPU), pool of {pool.cores()} {both:.2f} s wall")  # fmt: skip
    serial, pooled, cpus = [], [], []
    for _ in range(RUNS):
        w0, c0 = time.perf_counter(), time.process_time()
        report = publish_checks(bundle, workers=1)
        serial.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        assert report.ok
        w0 = time.perf_counter()
        assert publish_checks(bundle).ok
        pooled.append(time.perf_counter() - w0)
    checked = {c.name: c.checked for c in report.checks}
    runs = ", ".join(f"{p:.2f}" for p in pooled)
    print(f"publish checks ({checked}): one process median {statistics.median(serial):.2f} s "
          f"wall ({statistics.median(cpus):.2f} s CPU), pool of {pool.cores()} median "
          f"{statistics.median(pooled):.2f} s wall (runs: {runs})")  # fmt: skip
    pool.shutdown()


if __name__ == "__main__":
    main()
