"""What every store offers (the `Storage` protocol), what it hands back, and how it fails."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from app.infra.errors import BillreelError


class StorageError(BillreelError):
    """The store could not do what was asked (disk, network, or the S3 service said no)."""


class ObjectNotFound(StorageError):
    """No object is stored under the key."""

    def __init__(self, key: str):
        super().__init__(f"no stored object under key {key!r}")
        self.key = key


class InvalidKey(StorageError, ValueError):
    """A key, prefix or file name that is malformed or would escape the store."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int  # bytes
    content_type: str
    etag: str  # without quotes; changes whenever the bytes do
    cache_control: str = ""


@runtime_checkable
class Storage(Protocol):
    def put_file(
        self, key: str, path: Path, *, content_type: str, cache_control: str
    ) -> StoredObject: ...

    def put_bytes(
        self, key: str, data: bytes, *, content_type: str, cache_control: str
    ) -> StoredObject: ...

    def stat(self, key: str) -> StoredObject | None: ...

    def read_bytes(self, key: str) -> bytes: ...

    def local_path(self, key: str) -> Path | None: ...

    def presigned_url(
        self, key: str, *, expires_seconds: int, filename: str | None = None
    ) -> str | None: ...

    def delete_prefix(self, prefix: str) -> int: ...

    def list_keys(self, prefix: str = "") -> Iterator[str]: ...

    def check(self) -> None: ...
