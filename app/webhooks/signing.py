"""Standard Webhooks signing: the secrets (configured, or made once per data directory) and
the `webhook-*` headers of a message, signed with every current secret while rotating.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from standardwebhooks import Webhook

from app.infra.errors import ConfigurationError
from app.infra.settings import Settings

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32  # a generated secret; the spec allows 24 to 64 bytes
SECRET_MIN_BYTES, SECRET_MAX_BYTES = 24, 64
SECRET_FILE = "webhook-secret.key"  # noqa: S105 - a file name


USER_AGENT = "billreel-webhooks/1"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _check_secret(value: str, where: str) -> str:
    problem = f"{where}: a webhook secret is 'whsec_' then base64 of 24 to 64 random bytes"
    if not value.startswith(SECRET_PREFIX):
        raise ConfigurationError(problem)
    try:
        raw = base64.b64decode(value[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(problem) from exc
    if not SECRET_MIN_BYTES <= len(raw) <= SECRET_MAX_BYTES:
        raise ConfigurationError(problem)
    return value


def webhook_secrets(settings: Settings) -> list[str]:
    """The signing secrets, current first; while rotating, every one of them signs."""
    if settings.webhook_secrets:
        parts = [part.strip() for part in settings.webhook_secrets.split(",") if part.strip()]
        if not parts:
            raise ConfigurationError("BILLREEL_WEBHOOK_SECRETS: no secret given")
        return [
            _check_secret(part, f"BILLREEL_WEBHOOK_SECRETS, secret {n}")
            for n, part in enumerate(parts, start=1)
        ]
    return [_stored_secret(settings.data_dir)]


def _stored_secret(data_dir: Path) -> str:
    """A secret made once per data directory and kept there, readable by its owner only."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(new_secret() + "\n")
        try:
            # A hard link appears whole or not at all: when two processes race, the first
            # wins and neither can read a half-written file.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return _check_secret(path.read_text(encoding="ascii").strip(), str(path))


def signature_header(
    signing_secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> str:
    """`webhook-signature`: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` per secret."""
    at = datetime.fromtimestamp(timestamp, UTC)
    text = body.decode("utf-8")
    return " ".join(Webhook(secret).sign(msg_id, at, text) for secret in signing_secrets)


def signed_headers(
    signing_secrets: Sequence[str], msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature_header(signing_secrets, msg_id, stamp, body),
    }
