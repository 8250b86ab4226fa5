"""Where render outputs live: a `Storage` protocol, files under the data directory, or S3.

    BillreelError
     └── StorageError                   the store failed (I/O, network, the S3 service)
          ├── ObjectNotFound            no object under that key
          └── InvalidKey (ValueError)   a key or prefix that is unsafe or malformed

Keys look like `renders/<render_id>/video.mp4`: segments of `[A-Za-z0-9_.-]` joined by `/`,
none empty, none starting with a dot (so no `..`, no hidden files). Keys carry no personal
data, which is what lets them appear in URLs and log lines.

No reader ever sees half an object: `LocalStorage` writes a temporary file beside the
target, fsyncs it and renames it into place; `S3Storage` uploads with one PUT, or with a
multipart upload that S3 makes visible only when it completes.
"""

from __future__ import annotations

from app.infra.settings import Settings
from app.infra.storage.base import InvalidKey, ObjectNotFound, Storage, StorageError, StoredObject
from app.infra.storage.keys import (
    CONTENT_TYPES,
    MAX_KEY_BYTES,
    output_key,
    render_prefix,
    require_headers,
    validate_key,
    validate_prefix,
)
from app.infra.storage.local import LocalStorage
from app.infra.storage.s3 import S3Storage

__all__ = [
    "CONTENT_TYPES",
    "MAX_KEY_BYTES",
    "InvalidKey",
    "LocalStorage",
    "ObjectNotFound",
    "S3Storage",
    "Storage",
    "StorageError",
    "StoredObject",
    "output_key",
    "render_prefix",
    "require_headers",
    "storage_from_settings",
    "validate_key",
    "validate_prefix",
]


def storage_from_settings(settings: Settings) -> Storage:
    """S3 when a bucket is configured (credentials from the usual AWS chain), else local files."""
    if settings.s3_bucket:
        return S3Storage(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url)
    return LocalStorage(settings.files_dir)
