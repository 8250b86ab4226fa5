"""Objects as files under the data directory, written whole (temporary file, fsync, rename),
with a sidecar for each object's headers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from app.infra.errors import ConfigurationError
from app.infra.storage.base import InvalidKey, ObjectNotFound, StoredObject
from app.infra.storage.keys import CONTENT_TYPES, require_headers, validate_key, validate_prefix

COPY_CHUNK_BYTES = 1024 * 1024  # read size when copying a file into LocalStorage


_META_DIR = ".meta"  # LocalStorage's sidecars; no key can start with a dot, so no clash
_TEMP_PREFIX = ".tmp-"


class LocalStorage:
    """Objects as files under `root`; content type and cache control in a JSON sidecar.

    The sidecar (`root/.meta/<key>.json`) also records the inode of the file it describes,
    so `stat` never pairs one version's bytes with another version's metadata.
    """

    def __init__(self, root: Path):
        # Absolute once: its files' paths go to Flask's send_file, which reads a relative
        # path against the app's package, not the working directory (the default data
        # directory, ./var, is relative).
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str, *, base: Path | None = None, suffix: str = "") -> Path:
        validate_key(key)
        base = self.root if base is None else base
        path = base / (key + suffix)
        # Defence in depth: a symlink inside the root must not lead outside it.
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise InvalidKey(f"key {key!r} leads outside the storage directory")
        return path

    def _meta_path(self, key: str) -> Path:
        return self._path(key, base=self.root / _META_DIR, suffix=".json")

    def put_file(
        self, key: str, path: Path, *, content_type: str, cache_control: str
    ) -> StoredObject:
        target = self._path(key)
        require_headers(content_type, cache_control)
        with open(path, "rb") as source:

            def fill(handle: IO[bytes]) -> str:
                digest = hashlib.sha256()
                while chunk := source.read(COPY_CHUNK_BYTES):
                    digest.update(chunk)
                    handle.write(chunk)
                return digest.hexdigest()

            return self._commit(key, target, fill, content_type, cache_control)

    def put_bytes(
        self, key: str, data: bytes, *, content_type: str, cache_control: str
    ) -> StoredObject:
        target = self._path(key)
        require_headers(content_type, cache_control)
        digest = hashlib.sha256(data).hexdigest()

        def fill(handle: IO[bytes]) -> str:
            handle.write(data)
            return digest

        return self._commit(key, target, fill, content_type, cache_control)

    def _commit(
        self,
        key: str,
        target: Path,
        fill: Callable[[IO[bytes]], str],
        content_type: str,
        cache_control: str,
    ) -> StoredObject:
        with _atomic_file(target) as handle:
            digest = fill(handle)
        info = target.stat()
        meta = {
            "content_type": content_type,
            "cache_control": cache_control,
            "sha256": digest,
            "inode": info.st_ino,
            "size": info.st_size,
        }
        with _atomic_file(self._meta_path(key)) as handle:
            handle.write(json.dumps(meta).encode("utf-8"))
        return StoredObject(key, info.st_size, content_type, digest, cache_control)

    def stat(self, key: str) -> StoredObject | None:
        path = self._path(key)
        try:
            info = path.stat()
        except FileNotFoundError:
            return None
        if not path.is_file():
            return None
        meta = self._read_meta(key)
        fresh = meta is not None and (meta.get("inode"), meta.get("size")) == (
            info.st_ino,
            info.st_size,
        )
        if meta is not None and fresh:
            return StoredObject(
                key,
                info.st_size,
                str(meta["content_type"]),
                str(meta["sha256"]),
                str(meta["cache_control"]),
            )
        # No sidecar for these bytes (written by hand, or a write in progress): derive it.
        etag = f"{info.st_ino:x}-{info.st_mtime_ns:x}-{info.st_size:x}"
        return StoredObject(key, info.st_size, _guess_content_type(key), etag)

    def _read_meta(self, key: str) -> dict[str, Any] | None:
        try:
            meta = json.loads(self._meta_path(key).read_bytes())
        except (FileNotFoundError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def read_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def local_path(self, key: str) -> Path | None:
        """The object's file, for streaming with range requests; None when it is absent."""
        path = self._path(key)
        return path if path.is_file() else None

    def presigned_url(
        self, key: str, *, expires_seconds: int, filename: str | None = None
    ) -> str | None:
        validate_key(key)
        return None

    def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        # Walk only the deepest directory the prefix names; match keys as strings, like S3.
        start = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        removed = 0
        for key in self._keys_under(start):
            if key.startswith(prefix):
                self._path(key).unlink(missing_ok=True)
                self._meta_path(key).unlink(missing_ok=True)
                removed += 1
        _prune_empty_dirs(self.root / start, self.root)
        _prune_empty_dirs(self.root / _META_DIR / start, self.root / _META_DIR)
        return removed

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with `prefix` (all keys for ""), in no particular order."""
        if prefix:
            validate_prefix(prefix)
        start = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        if not (self.root / start).is_dir():
            return
        for key in self._keys_under(start):
            if key.startswith(prefix):
                yield key

    def _keys_under(self, directory: str) -> Iterator[str]:
        top = self.root / directory if directory else self.root
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if not name.startswith("."):
                    yield Path(dirpath, name).relative_to(self.root).as_posix()

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root, prefix=_TEMP_PREFIX) as probe:
                probe.write(b"ok")
        except OSError as exc:
            raise ConfigurationError(
                f"storage directory {self.root} is not writable: {exc.strerror or exc}"
            ) from exc


@contextlib.contextmanager
def _atomic_file(target: Path) -> Iterator[IO[bytes]]:
    """A temporary file beside `target` that replaces it, fsynced, only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=_TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o644)  # mkstemp makes 0600; the web server may run as another user
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: fsync the directory that holds the new entry."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune_empty_dirs(directory: Path, stop: Path) -> None:
    """Remove empty directories in and above `directory`, never `stop` itself."""
    for dirpath, _dirs, _files in os.walk(directory, topdown=False):
        if Path(dirpath) != stop:
            with contextlib.suppress(OSError):  # not empty: keep it
                os.rmdir(dirpath)
    current = directory
    while current != stop and current.is_relative_to(stop):
        try:
            current.rmdir()
        except FileNotFoundError:
            pass
        except OSError:  # not empty: nothing above it is empty either
            return
        current = current.parent


def _guess_content_type(key: str) -> str:
    for name, content_type in CONTENT_TYPES.items():
        if key == name or key.endswith("/" + name):
            return content_type
    guessed, _ = mimetypes.guess_type(key)
    return guessed or "application/octet-stream"
