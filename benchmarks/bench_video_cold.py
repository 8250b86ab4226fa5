"""Cold renders: what a new process pays before it renders, with the caches on disk warm.

    .venv/bin/python benchmarks/bench_video_cold.py [--rounds 2] [--json FILE]

Each of examples/*.json is rendered as `billreel render BILL --out DIR` does it (video and
microsite, the default eSpeak NG narration, 1280x720), one process at a time, in turns of:
(1) a warmed worker's render: a fresh process warms up (renderers/warm.py), then renders,
and only the render is measured, as bench_video.py measures one; (2) the CLI in a new
process, the whole process measured (start-up, imports, bundle, fonts, render, ffmpeg and
eSpeak NG); (3) the same with an empty font cache each time (the fonts rewritten, as before
the cache); (4) the CLI after a warm-up in the same process. Beside them the warm-up alone in
a fresh process, with an empty and with a warm font cache (renderers/video/fontcache.py).
CPU-seconds = user + system time (getrusage, os.wait4: the process and the children it waited
for), not wall time: the machine is shared. The shared-scene and font caches are warmed
first, with one render of each bill (not measured).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.videobench import ROOT, Meter, load, machine, measured_run, summary

HERE = Path(__file__).resolve()
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
GOAL_WARM_UP_CPU = 0.3  # CPU-s of a warm-up with its font cache warm
GOAL_COLD_OVER_WARM = 1.5  # a new process's render over a warmed worker's


def _worker_render(bill_file: Path, out: Path) -> dict[str, float]:
    """Child: warm up as a worker does, then render what `billreel render` renders."""
    from app.infra.settings import Settings
    from app.intake import bill_document, json_input, parse_bill
    from app.rendering.voices import voice_from_settings
    from renderers import render
    from renderers.templates import load_bundle
    from renderers.warm import warm_up

    with Meter() as warm:
        warm_up()
    bill = parse_bill(json_input.loads(bill_file.read_bytes()))
    voice = voice_from_settings(Settings.from_env())
    with Meter() as m:
        render(bill_document(bill), load_bundle("bill-explainer"), ["video", "microsite"], out,
               voice=voice)  # fmt: skip
    return {"cpu": m.cpu, "wall": m.wall, "peak_mb": m.peak_mb, "warm_up": warm.cpu}


def _warm_up_only() -> dict[str, float]:
    from renderers.warm import warm_up

    with Meter() as m:
        warm_up()
    return {"cpu": m.cpu, "wall": m.wall, "peak_mb": m.peak_mb}


def _warmed_cli(bill_file: Path, out: Path) -> None:
    """Child: the CLI's render after a warm-up in the same process."""
    from app.cli.main import main
    from renderers.warm import warm_up

    warm_up()
    main(["render", str(bill_file), "--out", str(out)], standalone_mode=False)


def _python(args: Sequence[str], env: dict[str, str]) -> dict[str, float]:
    return measured_run([sys.executable, *args], env=env)


def _child(args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(HERE), *args], capture_output=True, text=True,
                         check=False, env=env, cwd=ROOT)  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"{HERE.name} {' '.join(args)} failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


def _probe_seconds(video: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
         str(video)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2, help="turns over the example bills")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--worker-one", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--warm-up-one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--cli-warmed-one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker_one:
        print(json.dumps(_worker_render(*(Path(a) for a in args.worker_one))))
        return
    if args.warm_up_one:
        print(json.dumps(_warm_up_only()))
        return
    if args.cli_warmed_one:
        _warmed_cli(*(Path(a) for a in args.cli_warmed_one))
        return

    print(f"machine: {machine()}; load at start {load()}", flush=True)
    figures: dict[str, Any] = {"machine": machine(), "load_start": load()}
    rows: dict[str, list[dict[str, float]]] = {
        k: [] for k in ("worker", "cli", "cli_no_font_cache", "cli_warmed", "warm_up_cold",
                        "warm_up_warm")}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        root = Path(tmp)
        fonts, scenes = root / "font-cache", root / "scene-cache"
        base = {**os.environ, "PYTHONPATH": str(ROOT), "BILLREEL_SCENE_CACHE": str(scenes)}
        env = {**base, "BILLREEL_FONT_CACHE": str(fonts)}
        cli = ["-m", "app.cli", "render"]
        for bill in EXAMPLES:  # the caches warmed: a machine's steady state
            _python([*cli, str(bill), "--out", str(root / "warm" / bill.stem)], env)
        for turn in range(args.rounds):
            for bill in EXAMPLES:
                out = root / f"{turn}-{bill.stem}"
                empty = {**base, "BILLREEL_FONT_CACHE": str(out / "empty-font-cache")}
                row = _child(["--worker-one", str(bill), str(out / "worker")], env)
                rows["warm_up_warm"].append({"cpu": row.pop("warm_up")})
                rows["worker"].append(row)
                rows["cli"].append(_python([*cli, str(bill), "--out", str(out / "cli")], env))
                rows["cli_no_font_cache"].append(
                    _python([*cli, str(bill), "--out", str(out / "cli_no_font_cache")], empty)
                )
                warmed = [str(HERE), "--cli-warmed-one", str(bill), str(out / "cli_warmed")]
                rows["cli_warmed"].append(_python(warmed, env))
                rows["warm_up_cold"].append(_child(["--warm-up-one"], {
                    **base, "BILLREEL_FONT_CACHE": str(out / "another-font-cache")}))  # fmt: skip
                kinds = ("worker", "cli", "cli_no_font_cache", "cli_warmed")
                for kind in kinds:
                    rows[kind][-1]["seconds"] = _probe_seconds(out / kind / "video.mp4")
                videos = {(out / kind / "video.mp4").read_bytes() for kind in kinds}
                assert len(videos) == 1, f"{bill.name}: the four renders made different videos"

    labels = {
        "worker": "warmed worker's render (render only)",
        "cli": "billreel render, new process",
        "cli_no_font_cache": "billreel render, empty font cache",
        "cli_warmed": "billreel render after a warm-up",
    }
    for kind, label in labels.items():
        figures[kind] = summary(label, rows[kind])
    for kind in ("warm_up_cold", "warm_up_warm"):
        cpu = [r["cpu"] for r in rows[kind]]
        figures[kind] = {"n": len(cpu), "cpu_median": statistics.median(cpu),
                         "cpu_max": max(cpu)}  # fmt: skip
        print(f"warm-up, font cache {kind.split('_')[-1]:<4} n={len(cpu):<3} CPU-s median "
              f"{figures[kind]['cpu_median']:.3f} max {figures[kind]['cpu_max']:.3f}")  # fmt: skip
    for kind in ("cli", "cli_no_font_cache", "cli_warmed"):
        ratio = statistics.median(
            c["cpu"] / w["cpu"] for c, w in zip(rows[kind], rows["worker"], strict=True)
        )
        figures[f"{kind}_over_worker"] = ratio
        print(f"{labels[kind]} / warmed worker's render (CPU, median over the same bills): "
              f"{ratio:.2f}x")  # fmt: skip
    figures["load_end"] = load()
    print(f"load at end {figures['load_end']}")
    warm = figures["warm_up_warm"]["cpu_median"]
    ratio = figures["cli_over_worker"]
    print(f"goal: warm-up <= {GOAL_WARM_UP_CPU} CPU-s with its cache warm: {warm:.3f} "
          f"({'met' if warm <= GOAL_WARM_UP_CPU else 'MISSED'})")  # fmt: skip
    print(f"goal: a new process's render <= {GOAL_COLD_OVER_WARM}x a warmed worker's: "
          f"{ratio:.2f}x ({'met' if ratio <= GOAL_COLD_OVER_WARM else 'MISSED'})")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print("figures go to docs/benchmarks.md, section ## Video, Cold renders")


if __name__ == "__main__":
    main()
