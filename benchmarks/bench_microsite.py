"""Microsites per second per core: 1,000 bills from tools/make_bills.py, rendered one by one.

Each bill is validated and normalized first (as the API does, outside the timing), then
rendered by `renderers.render` to `site/index.html` with served links, exactly as a worker
does. One process on one core, so the rate is per core. Prints the rate and bytes per page.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.intake import bill_document, parse_bill  # noqa: E402
from renderers import SiteLinks, render  # noqa: E402
from renderers.templates import load_bundle  # noqa: E402

COUNT = int(os.environ.get("BENCH_MICROSITES", "1000"))
SEED = 7
GOAL_PER_CORE = 200


def bills() -> list[dict[str, object]]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_bills.py"), str(COUNT), "--seed", str(SEED)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [bill_document(parse_bill(json.loads(line)["data"])) for line in out.splitlines()]


def main() -> None:
    documents = bills()
    bundle = load_bundle("bill-explainer")
    sizes: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        render(documents[0], bundle, ["microsite"], Path(tmp) / "warm")  # compile once
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i, bill in enumerate(documents):
            token = f"T{i:031d}"
            links = SiteLinks(
                video=f"{token}/video.mp4",
                poster=f"{token}/poster.jpg",
                captions=f"{token}/captions.vtt",
                pay=f"{token}/pay",
            )
            result = render(bill, bundle, ["microsite"], Path(tmp) / str(i), links)
            assert result.site is not None
            sizes.append(result.site.stat().st_size)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(f"microsites rendered: {len(documents)} (make_bills.py {COUNT} --seed {SEED})")
    print(f"wall: {wall:.2f} s, cpu: {cpu:.2f} s (one process, one core)")
    per_core = len(documents) / cpu
    verdict = "meets" if per_core >= GOAL_PER_CORE else "BELOW"
    print(f"microsites per second per core (cpu): {per_core:.0f} ({verdict} goal {GOAL_PER_CORE})")
    print(f"microsites per second (wall): {len(documents) / wall:.0f}")
    print(
        f"bytes per page: median {statistics.median(sizes):.0f}, max {max(sizes)}, "
        f"min {min(sizes)} (no video; limit 61440)"
    )


if __name__ == "__main__":
    main()
