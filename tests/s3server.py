"""A real S3 endpoint for the tests: moto's server mode, over HTTP on a loopback port.

moto runs in its own process, so the code under test talks to it exactly as it would to
S3 or MinIO: HTTP requests signed with (dummy) credentials. Each test makes its own bucket.
"""

from __future__ import annotations

import functools
import importlib.util
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.realparts import free_port, missing, stop_process, wait_for_port

MOTO_START_ATTEMPTS = 3
MOTO_START_SECONDS = 60.0  # importing moto's many services is slow on a busy machine
DUMMY_REGION = "us-east-1"

# Dummy credentials, and nothing from the developer's own AWS set-up (profiles, tokens,
# the instance metadata service), so no test can ever reach a real account.
DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": DUMMY_REGION,
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
UNSET_AWS_ENV = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


@dataclass(frozen=True)
class MotoServer:
    endpoint_url: str
    port: int
    process: subprocess.Popen[bytes]


def start_moto_server(log_dir: Path) -> MotoServer:
    """Start `python -m moto.server` on a free 127.0.0.1 port; fails or skips if moto is absent."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask_cors") is None:
        missing("moto's server mode (pip install 'moto[server]')")
    log_dir.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for attempt in range(MOTO_START_ATTEMPTS):  # another process may take the port first
        port = free_port()
        args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        with open(log_dir / f"moto-{attempt}.log", "wb") as log:
            process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, timeout=MOTO_START_SECONDS, process=process)
            return MotoServer(f"http://127.0.0.1:{port}", port, process)
        except (OSError, RuntimeError) as exc:
            last_error = exc
        stop_process(process)
    raise RuntimeError(f"could not start moto's server (logs in {log_dir}): {last_error}")


def set_dummy_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in DUMMY_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    for name in UNSET_AWS_ENV:
        monkeypatch.delenv(name, raising=False)


@functools.cache
def s3_client(endpoint_url: str) -> Any:
    """A plain boto3 client on the server, for a test's own set-up and checks."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=DUMMY_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def unique_bucket_name() -> str:
    return f"billreel-test-{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="session", name="moto_server")
def moto_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One moto server for the whole session, stopped at its end."""
    server = start_moto_server(tmp_path_factory.mktemp("moto"))
    try:
        yield server
    finally:
        stop_process(server.process)


@pytest.fixture(name="s3_bucket")
def s3_bucket_fixture(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, empty bucket on the moto server, with dummy AWS credentials in the env."""
    set_dummy_aws_env(monkeypatch)
    name = unique_bucket_name()
    s3_client(moto_server.endpoint_url).create_bucket(Bucket=name)
    return name
