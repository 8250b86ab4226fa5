"""Frames into the encoder's stdin, handed over instead of copied where Linux allows.

A 720p frame is 1.4 MB and a video sends about 240 of them. Written to a pipe, each is copied
into pages the kernel allocates for it, and freed once ffmpeg has read them. vmsplice(2)
gives the pipe references to the frame's own pages instead, and ffmpeg reads straight from
them: on this machine that took the sender from 0.09 to 0.02 CPU-s for a video's frames and
ffmpeg's reading from 0.17 to 0.08 (docs/benchmarks.md, ## Video).

The pages must not change until ffmpeg has read them. A pipe holds at most its capacity: once
a frame has been handed over whole, every byte sent a capacity or more before it has been
read. So frames come from a ring of buffers (yuv.Planes), each filled again only after
enough frames went by to fill the pipe (`FrameSink.buffers`). Where vmsplice is missing or
refused (another system, a sandbox), frames are written, from a ring of one.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
from collections.abc import Callable
from functools import lru_cache
from typing import IO

import numpy as np

PIPE_BYTES = 1 << 20  # asked for: a 720p frame in two wake-ups of ffmpeg, not 22 (64 KB)

VmSplice = Callable[..., int]  # (fd, iovec pointer, count, flags) -> bytes handed over


class _Iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


@lru_cache(maxsize=1)
def _vmsplice() -> VmSplice | None:
    """libc's vmsplice if it works here: tried once on a pipe of this process's own."""
    try:
        call = ctypes.CDLL(None, use_errno=True).vmsplice
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.POINTER(_Iovec), ctypes.c_ulong, ctypes.c_uint]
    call.restype = ctypes.c_ssize_t
    probe = ctypes.create_string_buffer(b"v", 1)
    read_end, write_end = os.pipe()
    try:
        handed = call(write_end, ctypes.byref(_Iovec(ctypes.addressof(probe), 1)), 1, 0)
        works = handed == 1 and os.read(read_end, 1) == b"v"
    finally:
        os.close(read_end)
        os.close(write_end)
    return call if works else None


def _capacity(fd: int) -> int | None:
    """The pipe's capacity in bytes, widened to PIPE_BYTES where allowed (None: unknown)."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    getsize = getattr(fcntl, "F_GETPIPE_SZ", None)
    if setsize is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, setsize, PIPE_BYTES)
    if getsize is None:
        return None
    try:
        return int(fcntl.fcntl(fd, getsize))
    except OSError:
        return None


class FrameSink:
    """Sends frames of `frame_bytes` each into `stream` (a pipe's writing end)."""

    def __init__(self, stream: IO[bytes], frame_bytes: int) -> None:
        self._stream = stream
        self._fd = stream.fileno()
        capacity = _capacity(self._fd)
        self._vmsplice = _vmsplice() if capacity is not None else None
        # A frame's buffer is filled again `buffers` frames later: by then at least
        # (buffers - 1) whole frames, a capacity or more, were handed over after it.
        self.buffers = 1
        if self._vmsplice is not None and capacity is not None:
            self.buffers = -(-capacity // frame_bytes) + 1

    def send(self, frame: memoryview) -> None:
        """Hand `frame` over (or write it): its pages must stay as they are until
        `buffers` - 1 more frames have been sent."""
        if self._vmsplice is None:
            self._stream.write(frame)
            return
        address = np.frombuffer(frame, dtype=np.uint8).ctypes.data
        sent, size = 0, frame.nbytes
        while sent < size:
            handed = self._vmsplice(
                self._fd, ctypes.byref(_Iovec(address + sent, size - sent)), 1, 0
            )
            if handed < 0:
                code = ctypes.get_errno()
                if code == errno.EINTR:
                    continue
                if code == errno.EPIPE:
                    raise BrokenPipeError(code, os.strerror(code))
                raise OSError(code, f"vmsplice: {os.strerror(code)}")
            if handed == 0:  # a blocking pipe with a reader always takes something
                raise BrokenPipeError(errno.EPIPE, "vmsplice handed over nothing")
            sent += handed
