#!/usr/bin/env bash
# `make bench`: every benchmarks/bench_*.py (and bench_*.sh) in name order, one after another,
# so they do not compete for the 2 cores. Each prints its figures and says where it wrote them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=${PYTHON:-.venv/bin/python}
shopt -s nullglob
ran=0
for bench in benchmarks/bench_*.py benchmarks/bench_*.sh; do
  echo "== $bench ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
  case "$bench" in
    *.py) "$python" "$bench" ;;
    *.sh) bash "$bench" ;;
  esac
  ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || { echo "no benchmarks found" >&2; exit 1; }
