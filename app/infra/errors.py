"""The service's exceptions, one tree with one root; each API error knows its status.

    BillreelError
     ├── ConfigurationError              a setting or a server part is unusable
     └── ApiError                        answered as application/problem+json (RFC 9457)
          ├── MalformedRequest     400    the body is not JSON / NDJSON at all
          ├── Unauthorized         401    no API key, or an unknown one
          ├── Forbidden            403    a live key whose scope does not allow this
          ├── NotFound             404
          ├── MethodNotAllowed     405
          ├── Conflict             409    refused by the current state (a taken name)
          ├── IdempotencyConflict  409    same Idempotency-Key still in flight
          ├── PreconditionFailed   412    If-Match names an older state; carries the current
          ├── PayloadTooLarge      413
          ├── UnsupportedMediaType 415
          ├── InvalidInput         422    well-formed but invalid; carries FieldErrors
          ├── RefusedChange        422    a change the state refuses; carries what was checked
          ├── PreconditionRequired 428    a write to a versioned resource without If-Match
          ├── RateLimited          429    carries Retry-After
          └── InternalError        500    never for bad input

Renderer failures live in `renderers.errors`, which knows nothing of HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

PROBLEM_BASE = "https://billreel.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class FieldError:
    """One problem with the input: a JSON Pointer (RFC 6901) into the request, and why."""

    pointer: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "detail": self.detail}


def escape_pointer_token(token: str | int) -> str:
    """Escape one reference token of a JSON Pointer (`~` then `/`, RFC 6901 §3)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(base: str, *tokens: str | int) -> str:
    return base + "".join("/" + escape_pointer_token(t) for t in tokens)


class BillreelError(Exception):
    """Root of every error the service raises on purpose."""


class ConfigurationError(BillreelError):
    """A setting or a required server part is unusable; raised at start-up, never per request."""


class ApiError(BillreelError):
    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal server error"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = dict(headers or {})

    def problem(self) -> dict[str, Any]:
        return {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }


class MalformedRequest(ApiError):
    status, slug, title = 400, "malformed-request", "Malformed request"


class Unauthorized(ApiError):
    status, slug, title = 401, "unauthorized", "Missing or invalid API key"

    def __init__(self, detail: str | None = None):
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="billreel"'})


class Forbidden(ApiError):
    status, slug, title = 403, "forbidden", "Not allowed for this API key"


class Conflict(ApiError):
    status, slug, title = 409, "conflict", "The request conflicts with the current state"


class NotFound(ApiError):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(ApiError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class IdempotencyConflict(ApiError):
    status, slug, title = (
        409,
        "idempotency-conflict",
        "A request with this Idempotency-Key is in flight",
    )


class PayloadTooLarge(ApiError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(ApiError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported content type"


class InvalidInput(ApiError):
    status, slug, title = 422, "invalid-input", "The request is well-formed but invalid"

    def __init__(self, errors: list[FieldError], detail: str | None = None):
        count = len(errors)
        super().__init__(detail or f"{count} problem{'s' if count != 1 else ''} with the input")
        self.errors = errors

    def problem(self) -> dict[str, Any]:
        body = super().problem()
        body["errors"] = [e.as_dict() for e in self.errors]
        return body


class PreconditionFailed(ApiError):
    """A write made against a version that changed since (`If-Match`); `current` names it."""

    status, slug, title = 412, "precondition-failed", "The resource changed since you read it"

    def __init__(self, detail: str, current: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(detail, headers=headers)
        self.current = current

    def problem(self) -> dict[str, Any]:
        return super().problem() | {"current": self.current}


class PreconditionRequired(ApiError):
    status, slug, title = 428, "precondition-required", "Send If-Match with the ETag you read"


class RefusedChange(ApiError):
    """A well-formed change the resource's state refuses (a published version edited, say);
    `checks` says what was checked, when something was."""

    status, slug, title = 422, "refused", "The change was refused"

    def __init__(self, detail: str, checks: Any = None):
        super().__init__(detail)
        self.checks = checks

    def problem(self) -> dict[str, Any]:
        body = super().problem()
        if self.checks is not None:
            body["checks"] = self.checks
        return body


class RateLimited(ApiError):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, retry_after_seconds: int, detail: str | None = None):
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_seconds))})


class InternalError(ApiError):
    status, slug, title = 500, "internal", "Internal server error"
