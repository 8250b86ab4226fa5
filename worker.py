"""A render worker: `python worker.py [--burst]`, the same as `billreel worker`.

Thin on purpose: the worker process lives in `app.worker`.
"""

from __future__ import annotations

import sys

from app.worker.main import run

if __name__ == "__main__":
    sys.exit(run(burst="--burst" in sys.argv[1:]))
