"""Shared by bench_video.py and moviepy_baseline.py: bills from tools/make_bills.py, CPU and
memory meters (getrusage, so a loaded machine inflates wall time but hardly CPU time),
summaries and a description of the machine."""

from __future__ import annotations

import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def bills(n: int, seed: int) -> list[dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_bills.py"), str(n), "--seed", str(seed)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [json.loads(line)["data"] for line in out.stdout.splitlines() if line.strip()]


class Meter:
    """CPU seconds (user + system of this process and of the children it waited for, e.g.
    ffmpeg), wall seconds, and peak resident memory of this process or any such child."""

    def __enter__(self) -> Meter:
        self.wall0 = time.perf_counter()
        self.cpu0 = self._cpu()
        return self

    @staticmethod
    def _cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = self._cpu() - self.cpu0
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self.peak_mb = max(own, kids) / 1024  # ru_maxrss is in KiB on Linux


def measured_run(cmd: Sequence[str], env: Mapping[str, str] | None = None) -> dict[str, float]:
    """Run one command; its own CPU seconds (with the children it waited for), wall seconds
    and peak memory (os.wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}: {err[-2000:]}")
    return {
        "cpu": usage.ru_utime + usage.ru_stime,
        "wall": time.perf_counter() - start,
        "peak_mb": usage.ru_maxrss / 1024,
    }


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summary(label: str, rows: Sequence[dict[str, float]]) -> dict[str, float]:
    cpu = [r["cpu"] for r in rows]
    wall = [r["wall"] for r in rows]
    video = [r["seconds"] for r in rows]
    per30 = [c / v * 30 for c, v in zip(cpu, video, strict=True)]
    result = {
        "n": len(rows),
        "cpu_median": statistics.median(cpu),
        "cpu_p95": p95(cpu),
        "wall_median": statistics.median(wall),
        "wall_p95": p95(wall),
        "peak_mb": max(r["peak_mb"] for r in rows),
        "peak_mb_median": statistics.median(r["peak_mb"] for r in rows),
        "video_s_median": statistics.median(video),
        "cpu_per_30s": statistics.median(per30),
        "cpu_per_30s_p95": p95(per30),
    }
    print(
        f"{label:<40} n={result['n']:<3} CPU-s median {result['cpu_median']:.2f} "
        f"p95 {result['cpu_p95']:.2f} | per 30 s {result['cpu_per_30s']:.2f} | wall-s median "
        f"{result['wall_median']:.2f} p95 {result['wall_p95']:.2f} | peak MB median "
        f"{result['peak_mb_median']:.0f} max {result['peak_mb']:.0f} | video "
        f"{result['video_s_median']:.1f} s",
        flush=True,
    )
    return result


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])


def machine() -> str:
    model = "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(
            (line.split(":", 1)[1].strip() for line in out.splitlines()
             if line.startswith("Model name:")), model,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        pass
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{len(os.sched_getaffinity(0))} cores (nproc), {model} (lscpu), {now}"
