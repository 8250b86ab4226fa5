"""Frames handed to a real reader process through a pipe (renderers/video/pipe.py): with
vmsplice the pipe holds the sender's own pages, so a buffer refilled too soon would change a
frame the reader has not read yet. A slow reader checks every byte it gets."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from renderers.video import pipe
from renderers.video.pipe import FrameSink
from tests.realparts import in_ci

# Reads frames of the given size slowly (small reads, pauses) and prints, for each, the set
# of byte values it held.
SLOW_READER = """
import sys, time
size, count = int(sys.argv[1]), int(sys.argv[2])
stream = sys.stdin.buffer.raw
for n in range(count):
    got = bytearray()
    while len(got) < size:
        chunk = stream.read(min(8192, size - len(got)))
        if not chunk:
            raise SystemExit(f"the stream ended in frame {n}")
        got += chunk
        time.sleep(0.0002)
    print(n, sorted(set(got)), flush=True)
"""


def _send_through(frame_bytes: int, count: int, buffers: int | None = None) -> list[str]:
    reader = subprocess.Popen(
        [sys.executable, "-c", SLOW_READER, str(frame_bytes), str(count)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=False,
    )  # fmt: skip
    assert reader.stdin is not None and reader.stdout is not None
    sink = FrameSink(reader.stdin, frame_bytes)
    ring = [np.empty(frame_bytes, dtype=np.uint8) for _ in range(buffers or sink.buffers)]
    for n in range(count):
        buffer = ring[n % len(ring)]
        buffer[:] = n  # filled again right after its turn comes round
        sink.send(buffer.data.toreadonly())
    reader.stdin.close()
    lines = reader.stdout.read().decode().splitlines()
    assert reader.wait(timeout=60) == 0
    return lines


@pytest.mark.parametrize("frame_bytes", [300_000, 1_382_400])
def test_every_frame_arrives_as_it_was_sent(frame_bytes: int) -> None:
    lines = _send_through(frame_bytes, 24)
    assert lines == [f"{n} [{n}]" for n in range(24)]


def test_frames_are_handed_over_where_linux_allows() -> None:
    if sys.platform != "linux":
        pytest.skip("vmsplice is Linux's")
    if pipe._vmsplice() is None:  # a sandbox refusing it: frames are written, still right
        assert not in_ci(), "vmsplice is refused on this CI machine"
        pytest.skip("vmsplice refused here")
    reader = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.buffer.read()"],
                              stdin=subprocess.PIPE)  # fmt: skip
    assert reader.stdin is not None
    sink = FrameSink(reader.stdin, 1_382_400)
    reader.stdin.close()
    reader.wait(timeout=60)
    # a 1 MB pipe and 1.4 MB frames: a buffer is refilled once the next frame went whole
    assert sink.buffers == 2


def test_a_ring_too_small_for_the_pipe_would_show() -> None:
    """The check above can fail: refilling each buffer at once (a ring of one) while the
    pipe holds references to it changes frames before they are read."""
    if pipe._vmsplice() is None:
        pytest.skip("frames are written here: a ring of one is right")
    lines = _send_through(300_000, 24, buffers=1)
    assert lines != [f"{n} [{n}]" for n in range(24)]
