"""The rendering process keeps what a scene frees for the next instead of faulting it in again."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

from tests.paths import REPO_ROOT

# A fresh process lets a scene's worth of full-frame sprites go, three times over, and prints
# the page faults of each time after the first. `setup` runs first.
SCENES = """
import resource, sys
from PIL import Image
{setup}
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
counts = []
for _ in range(4):
    before = faults()
    held = [Image.new("RGBA", (1280, 720 - k)) for k in range(10)]  # a scene's sprites, 36 MB
    del held
    counts.append(faults() - before)
print(max(counts[1:]))
"""
FRAME_PAGES = 1280 * 720 * 4 // 4096
GLIBC = platform.libc_ver()[0] == "glibc"


def _faults_after_the_first_scene(setup: str) -> int:
    code = SCENES.format(setup=setup)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return int(out.stdout)


@pytest.mark.skipif(not GLIBC, reason="glibc's heap and its thresholds")
def test_a_worker_keeps_the_memory_a_scene_let_go() -> None:
    kept = _faults_after_the_first_scene("from renderers.warm import warm_up; warm_up()")
    assert kept < FRAME_PAGES  # not one frame's pages faulted in again
    # the same without the setting: the heap is handed back and faulted in again every scene
    assert _faults_after_the_first_scene("") > 5 * FRAME_PAGES


def test_the_setting_is_taken_by_glibc() -> None:
    from renderers.allocator import keep_freed_memory

    assert keep_freed_memory() is GLIBC


# Memory freed and kept by the heap's thresholds, then handed back; prints the resident
# bytes before and after.
HANDED_BACK = """
import json
from renderers.allocator import hand_back_free_memory, keep_freed_memory
def resident():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
keep_freed_memory()
blocks = [bytearray(1 << 20) for _ in range(48)]  # from the heap, each page touched
del blocks
kept = resident()
hand_back_free_memory()
print(json.dumps([kept, resident()]))
"""


@pytest.mark.skipif(not GLIBC, reason="glibc's heap and its thresholds")
def test_what_the_warm_up_left_is_handed_back_before_the_worker_forks() -> None:
    out = subprocess.run(
        [sys.executable, "-c", HANDED_BACK],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    kept, after = json.loads(out.stdout)
    assert kept - after > 40 << 20  # the freed 48 MB, kept until then
