"""One webhook attempt: a signed POST to the address the destination check pinned, and what
came back (a status code, or a short class of error; never the receiver's words).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import urllib3

from app.infra.database import MAX_WEBHOOK_ERROR_CHARS
from app.infra.settings import Settings
from app.webhooks.destinations import (
    Destination,
    DestinationRefused,
    Resolver,
    check_destination,
    system_resolver,
)

MAX_ERROR_CHARS = MAX_WEBHOOK_ERROR_CHARS  # of a reason, as the attempt's row keeps it


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: a status code, or an error class and a short reason."""

    status_code: int | None
    duration_ms: int
    error_class: str | None = None
    error: str | None = None
    retry_after: str | None = None  # the raw Retry-After header of a 429
    permanent: bool = False  # the destination is refused: retrying cannot help

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    """POSTs a signed body to a callback URL, connecting only to the address it checked.

    The name is resolved once, every address is checked, and the connection goes to the
    checked address with the URL's host name for SNI, the certificate and `Host`. Checking
    and then letting the HTTP client resolve again would leave a window in which the name
    could be re-pointed at an internal address (DNS rebinding); pinning closes it.
    """

    def __init__(
        self,
        *,
        timeout_seconds: float,
        allow_private: bool = False,
        resolver: Resolver = system_resolver,
        ca_certs: str | None = None,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.allow_private = allow_private
        self.resolver = resolver
        self.ca_certs = ca_certs

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> Sender:
        options: dict[str, Any] = {
            "timeout_seconds": settings.webhook_timeout_seconds,
            "allow_private": settings.webhook_allow_private,
        }
        return cls(**(options | overrides))

    def send(self, url: str, headers: dict[str, str], body: bytes) -> Outcome:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            dest = check_destination(url, allow_private=self.allow_private, resolver=self.resolver)
        except DestinationRefused as exc:
            return Outcome(None, elapsed(), "destination_refused", str(exc), permanent=True)
        except (OSError, UnicodeError):
            return Outcome(None, elapsed(), "dns_error", "the callback host name did not resolve")
        pool = self._pool(dest)
        try:
            response = pool.urlopen(
                "POST",
                dest.target,
                body=body,
                headers={**headers, "Host": dest.host_header},
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            # The body is not needed: what a receiver sends back is never read.
            status = response.status
            retry_after = response.headers.get("Retry-After")
            response.close()
        except Exception as exc:  # every failure of an attempt is recorded, none escapes
            error_class, reason = _classify(exc, self.timeout_seconds)
            return Outcome(None, elapsed(), error_class, reason)
        finally:
            pool.close()
        if 200 <= status < 300:
            return Outcome(status, elapsed())
        if 300 <= status < 400:
            return Outcome(status, elapsed(), "redirect", f"redirect not followed (HTTP {status})")
        return Outcome(status, elapsed(), "http_status", f"HTTP {status}", retry_after=retry_after)

    def _pool(self, dest: Destination) -> urllib3.HTTPConnectionPool:
        timeout = urllib3.Timeout(total=self.timeout_seconds)
        if dest.scheme == "http":
            return urllib3.HTTPConnectionPool(
                dest.address, dest.port, timeout=timeout, retries=False, maxsize=1
            )
        return urllib3.HTTPSConnectionPool(
            dest.address,
            dest.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=self.ca_certs,
            server_hostname=dest.host,
            assert_hostname=dest.host,
        )


def _classify(exc: Exception, timeout_seconds: float) -> tuple[str, str]:
    """A short class and reason for a failed attempt; never the receiver's own words."""
    from urllib3 import exceptions as e

    if isinstance(exc, e.SSLError):
        return "tls_error", "the TLS handshake or certificate check failed"
    # Before timeouts: urllib3's NewConnectionError subclasses its ConnectTimeoutError.
    if isinstance(exc, e.NewConnectionError | ConnectionError):
        return "connect_error", "the connection was refused or could not be made"
    if isinstance(exc, e.TimeoutError | TimeoutError):
        return "timeout", f"no answer within {timeout_seconds:g} s"
    if isinstance(exc, e.ProtocolError):
        return "protocol_error", "the connection broke or the answer was not HTTP"
    return "error", type(exc).__name__[:MAX_ERROR_CHARS]
