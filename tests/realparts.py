"""Real parts for the tests: Redis, Chromium, ffprobe, free ports.

A pytest plugin (tests/conftest.py lists it in `pytest_plugins`). The tests run against the
real programs, never mocks of them. A missing program skips the test on a developer's
machine but fails it under CI=true, where everything must be installed; there, any skipped
test fails the run.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
# Flags for a quiet, offline, root-safe headless Chromium (CI runs as root: no sandbox).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",
]
PORT_WAIT_SECONDS = 15.0
REDIS_START_ATTEMPTS = 3


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(what: str) -> NoReturn:
    """Skip the test for a missing real part; under CI=true, fail it instead."""
    message = f"{what} is not available"
    if in_ci():
        pytest.fail(f"{message} (CI=true: every real part must be installed)")
    pytest.skip(message)


def require(tool: str) -> str:
    """The full path of the program `tool`; skips (fails under CI=true) when it is missing."""
    path = shutil.which(tool)
    if path is None:
        missing(f"the program {tool!r}")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    port: int,
    host: str = "127.0.0.1",
    timeout: float = PORT_WAIT_SECONDS,
    process: subprocess.Popen[Any] | None = None,
) -> None:
    """Return once `host:port` accepts connections; raise if it does not within `timeout`.

    When `process` is given, a process that exits first raises at once instead of waiting.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before port {port} opened")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s") from None
            time.sleep(0.05)


# --- Under CI, a skip is a failure ------------------------------------------------------

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true every real part is installed, so whatever skipped hid a problem."""
    if in_ci() and _skipped and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if in_ci() and _skipped:
        terminalreporter.section("skipped under CI=true (a failure)", red=True)
        for nodeid in _skipped:
            terminalreporter.line(nodeid)


# --- Redis -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedisServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")


def start_redis(directory: Path) -> RedisServer:
    """Start a throwaway redis-server on a free loopback port, without persistence."""
    binary = require("redis-server")
    directory.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for _ in range(REDIS_START_ATTEMPTS):  # another process may take the port first
        port = free_port()
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        args += ["no", "--dir", str(directory), "--logfile", str(directory / "redis.log")]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, process=process)
            if _redis_ping(port):
                return RedisServer(url=f"redis://127.0.0.1:{port}/0", port=port, process=process)
            last_error = RuntimeError("redis-server did not answer PING")
        except (OSError, RuntimeError) as exc:
            last_error = exc
        stop_process(process)
    raise RuntimeError(f"could not start redis-server in {directory}: {last_error}")


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Terminate `process` and wait for it; kill it if it does not stop in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty redis-server of this test's own, stopped afterwards."""
    server = start_redis(tmp_path / "redis")
    try:
        yield server.url
    finally:
        stop_process(server.process)


# --- Chromium ----------------------------------------------------------------------------


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        path = shutil.which(candidate)
        if path is not None:
            return path
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium (the tests never download a browser)."""
    path = find_chromium()
    if path is None:
        missing("chromium")
    return path


# --- ffprobe and MP4 ---------------------------------------------------------------------


def ffprobe_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """ffprobe's description of a media file: `format` and `streams`."""
    binary = require("ffprobe")
    args = [binary, "-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
    result = subprocess.run([*args, os.fspath(path)], capture_output=True, check=False, timeout=60)
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "replace").strip()
        raise AssertionError(f"ffprobe failed on {path}: {stderr}")
    described: dict[str, Any] = json.loads(result.stdout)
    return described


@pytest.fixture(scope="session")
def ffprobe() -> Callable[[str | os.PathLike[str]], dict[str, Any]]:
    """`ffprobe_json`, after making sure ffprobe exists (skip, or fail under CI=true)."""
    require("ffprobe")
    return ffprobe_json


def mp4_top_level_boxes(path: str | os.PathLike[str]) -> list[str]:
    """The types of an MP4 file's top-level boxes, in file order (e.g. ftyp, moov, mdat)."""
    boxes: list[str] = []
    with open(path, "rb") as handle:
        size_on_disk = os.fstat(handle.fileno()).st_size
        offset = 0
        while offset + 8 <= size_on_disk:
            handle.seek(offset)
            size, kind = struct.unpack(">I4s", handle.read(8))
            if size == 1:  # 64-bit size follows the type
                (size,) = struct.unpack(">Q", handle.read(8))
            elif size == 0:  # the box runs to the end of the file
                size = size_on_disk - offset
            if size < 8:
                raise ValueError(f"{path}: corrupt MP4 box at offset {offset}")
            boxes.append(kind.decode("latin-1"))
            offset += size
    return boxes
