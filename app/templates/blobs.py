"""A version's files in object storage, content-addressed: `templates/blobs/<sha256>`.

A file is stored once however many versions hold it (the music of a hundred versions is one
object), and its name is its checksum, so what is read back is checked against it.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.infra.storage import ObjectNotFound, Storage
from app.templates.files import Files, sha256

BLOB_PREFIX = "templates/blobs/"
BLOB_CACHE_CONTROL = "private, max-age=31536000, immutable"


class BlobMissing(RuntimeError):
    """A version lists a file that storage does not have, or has with other bytes."""


def blob_key(digest: str) -> str:
    return BLOB_PREFIX + digest


def put_files(storage: Storage, files: Files) -> None:
    """Store every file not stored yet (before the database names them: no dangling row)."""
    for data in files.values():
        key = blob_key(sha256(data))
        if storage.stat(key) is None:
            storage.put_bytes(
                key, data, content_type="application/octet-stream", cache_control=BLOB_CACHE_CONTROL
            )


def get_files(storage: Storage, listing: Mapping[str, Mapping[str, int | str]]) -> dict[str, bytes]:
    """The files a version lists, each checked against its SHA-256."""
    files: dict[str, bytes] = {}
    for path, entry in listing.items():
        expected = str(entry["sha256"])
        try:
            data = storage.read_bytes(blob_key(expected))
        except ObjectNotFound as exc:
            raise BlobMissing(f"{path}: blob {expected} is not in storage") from exc
        if sha256(data) != expected:
            raise BlobMissing(f"{path}: blob {expected} has other bytes in storage")
        files[path] = data
    return files
