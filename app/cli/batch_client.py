"""The API client behind `billreel batch`: submit an NDJSON file, poll its counts, fetch results.

Standard library HTTP (urllib) and tenacity for the retries. The body is streamed from the
file in chunks, so a 100,000-line billing run never sits in memory. Every call is safe to
repeat: the batch goes with an `Idempotency-Key` (by default the file's SHA-256), so a
dropped connection, a 409 (the same key still in flight), a 429 or a 5xx is retried with
backoff, and running the command again resumes the same batch instead of sending it twice.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

CHUNK_BYTES = 256 * 1024
REJECTIONS_SHOWN = 20  # rejected lines printed; the API's answer lists them all
RETRY_FOR_SECONDS = 300  # a call is retried (with backoff) this long before giving up
REQUEST_TIMEOUT_SECONDS = 60
UPLOAD_TIMEOUT_SECONDS = 3600  # a 100,000-line run is ~130 MB
RETRIED_STATUSES = frozenset({409, 429, 500, 502, 503, 504})
NOT_FINISHED = ("queued", "rendering")


class ApiProblem(Exception):
    """The API refused the request (problem+json), or could not be reached."""


class _Transient(ApiProblem):
    pass


_retried = retry(
    retry=retry_if_exception_type(_Transient),
    wait=wait_exponential_jitter(initial=1, max=30),
    stop=stop_after_delay(RETRY_FOR_SECONDS),
    reraise=True,
)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return f"batch-sha256-{digest.hexdigest()}"


def finished_count(counts: dict[str, Any]) -> int:
    """Renders of a batch no longer queued or rendering (done, failed, cancelled, ...)."""
    states = ("queued", "rendering", "done", "failed", "cancelled")
    accepted = int(counts.get("accepted", 0))
    waiting = sum(int(counts.get(name, 0)) for name in NOT_FINISHED)
    if accepted:
        return accepted - waiting
    return sum(int(counts.get(name, 0)) for name in states if name not in NOT_FINISHED)


class BatchClient:
    def __init__(self, api_url: str, api_key: str) -> None:
        if not api_url.startswith(("http://", "https://")):
            raise ApiProblem(f"--api-url must start with http:// or https://, not {api_url!r}")
        self._base = api_url.rstrip("/")
        self._auth = {"Authorization": f"Bearer {api_key}"}

    @_retried
    def submit(
        self, path: Path, idempotency_key: str, progress: Callable[[int], None] | None = None
    ) -> dict[str, Any]:
        """POST the file as `application/x-ndjson`; the API's `{id, accepted, rejected}`."""
        headers = self._auth | {
            "Content-Type": "application/x-ndjson",
            "Content-Length": str(path.stat().st_size),
            "Idempotency-Key": idempotency_key,
        }
        request = self._request("/v1/batches", headers, _read_chunks(path, progress))
        return json.loads(self._open(request, UPLOAD_TIMEOUT_SECONDS))  # type: ignore[no-any-return]

    @_retried
    def counts(self, batch_id: str) -> dict[str, Any]:
        request = self._request(f"/v1/batches/{batch_id}", self._auth)
        return json.loads(self._open(request, REQUEST_TIMEOUT_SECONDS))  # type: ignore[no-any-return]

    @_retried
    def results(self, batch_id: str, target: Path) -> int:
        """Stream the results NDJSON into `target`; the number of lines."""
        request = self._request(f"/v1/batches/{batch_id}/results", self._auth)
        lines = 0
        try:
            with (
                urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response,  # noqa: S310
                open(target, "wb") as out,
            ):
                for line in response:
                    out.write(line)
                    lines += 1
        except urllib.error.HTTPError as exc:
            raise _problem(exc) from None
        except OSError as exc:
            raise _Transient(f"cannot reach {self._base}: {exc}") from None
        return lines

    def _request(
        self, path: str, headers: dict[str, str], body: Iterator[bytes] | None = None
    ) -> urllib.request.Request:
        # The scheme was checked in __init__ (http or https only).
        url = f"{self._base}{path}"
        method = "GET" if body is None else "POST"
        return urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310

    def _open(self, request: urllib.request.Request, timeout: float) -> bytes:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as exc:
            raise _problem(exc) from None
        except OSError as exc:  # refused, reset, timed out
            raise _Transient(f"cannot reach {self._base}: {exc}") from None


def _read_chunks(path: Path, progress: Callable[[int], None] | None) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            if progress is not None:
                progress(len(chunk))
            yield chunk


def _problem(exc: urllib.error.HTTPError) -> ApiProblem:
    """The problem+json answer as one readable message (status, title, detail, field errors)."""
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    message = f"{exc.code} {body.get('title') or exc.reason}"
    if body.get("detail"):
        message += f": {body['detail']}"
    for error in body.get("errors") or []:
        message += f"\n  {error.get('pointer', '')}: {error.get('detail', '')}"
    kind = _Transient if exc.code in RETRIED_STATUSES else ApiProblem
    return kind(message)
