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

import contextlib
import hashlib
import json
import mimetypes
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.errors import BillreelError, ConfigurationError
from app.settings import Settings

# The outputs of a render, by storage name, with the media type each is served with.
CONTENT_TYPES: dict[str, str] = {
    "video.mp4": "video/mp4",
    "poster.jpg": "image/jpeg",
    "captions.vtt": "text/vtt; charset=utf-8",
    "site/index.html": "text/html; charset=utf-8",
}

MAX_KEY_BYTES = 1024  # S3's limit on a key, in UTF-8 bytes
COPY_CHUNK_BYTES = 1024 * 1024  # read size when copying a file into LocalStorage
S3_CONNECT_TIMEOUT_SECONDS = 5.0
S3_READ_TIMEOUT_SECONDS = 60.0
S3_MAX_ATTEMPTS = 5  # first try included; botocore's "standard" retry mode backs off
S3_MAX_POOL_CONNECTIONS = 16  # >= the transfer manager's threads plus request threads
S3_DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys per call
DEFAULT_MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024  # larger files go up in parts
DEFAULT_MULTIPART_CHUNK_BYTES = 8 * 1024 * 1024  # S3's minimum part size is 5 MiB
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4's longest allowed expiry

_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9_.-]*"
_KEY_RE = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
_FILENAME_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}")
_META_DIR = ".meta"  # LocalStorage's sidecars; no key can start with a dot, so no clash
_TEMP_PREFIX = ".tmp-"


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


def validate_key(key: str, *, what: str = "key") -> str:
    """`key` itself when it is safe; raises InvalidKey saying what is wrong otherwise."""
    if not isinstance(key, str) or not key:
        raise InvalidKey(f"{what} must be a non-empty string")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKey(f"{what} is longer than {MAX_KEY_BYTES} bytes")
    if not _KEY_RE.fullmatch(key):
        raise InvalidKey(
            f"{what} {key!r} is not safe: use segments of A-Z a-z 0-9 _ . - joined by '/', "
            "none empty and none starting with '.'"
        )
    return key


def validate_prefix(prefix: str) -> str:
    """A key prefix for `delete_prefix`: a safe key, optionally ending with '/'."""
    if not isinstance(prefix, str) or not prefix:
        raise InvalidKey("prefix must be a non-empty string (deleting everything is refused)")
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix, what="prefix")
    return prefix


def require_headers(content_type: str, cache_control: str) -> None:
    """Every object is stored with both headers: a browser must never have to guess them."""
    for name, value in (("content_type", content_type), ("cache_control", cache_control)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string")


def output_key(render_id: str, name: str) -> str:
    """The key of one output of a render, e.g. `renders/rnd_.../video.mp4`."""
    if "/" in render_id:
        raise InvalidKey(f"render_id {render_id!r} must not contain '/'")
    validate_key(render_id, what="render_id")
    validate_key(name, what="name")
    return validate_key(f"renders/{render_id}/{name}")


def render_prefix(render_id: str) -> str:
    """The prefix under which every output of one render lives (for deleting them all)."""
    return output_key(render_id, "video.mp4").rsplit("/", 1)[0] + "/"


def storage_from_settings(settings: Settings) -> Storage:
    """S3 when a bucket is configured (credentials from the usual AWS chain), else local files."""
    if settings.s3_bucket:
        return S3Storage(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url)
    return LocalStorage(settings.files_dir)


def _content_disposition(filename: str) -> str:
    if not _FILENAME_RE.fullmatch(filename):
        raise InvalidKey(f"filename {filename!r} is not safe: use A-Z a-z 0-9 _ . - only")
    return f'attachment; filename="{filename}"'


# --- local files -------------------------------------------------------------------------


class LocalStorage:
    """Objects as files under `root`; content type and cache control in a JSON sidecar.

    The sidecar (`root/.meta/<key>.json`) also records the inode of the file it describes,
    so `stat` never pairs one version's bytes with another version's metadata.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

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


# --- S3 ----------------------------------------------------------------------------------


class S3Storage:
    """Objects in an S3 bucket, on AWS or any S3-compatible endpoint (MinIO, ...).

    Credentials and region come from boto3's usual chain (AWS_* variables, config files,
    instance roles). One client per instance: boto3 clients are thread-safe.
    """

    delete_batch = S3_DELETE_BATCH  # keys per list page and per DeleteObjects call

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD_BYTES,
        multipart_chunksize: int = DEFAULT_MULTIPART_CHUNK_BYTES,
    ):
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        config = Config(
            connect_timeout=S3_CONNECT_TIMEOUT_SECONDS,
            read_timeout=S3_READ_TIMEOUT_SECONDS,
            retries={"mode": "standard", "max_attempts": S3_MAX_ATTEMPTS},
            max_pool_connections=S3_MAX_POOL_CONNECTIONS,
            signature_version="s3v4",
            # Self-hosted stores rarely have wildcard DNS for bucket subdomains.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        session = boto3.session.Session()  # sessions are not thread-safe; own one
        self._client: Any = session.client("s3", endpoint_url=endpoint_url, config=config)
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold, multipart_chunksize=multipart_chunksize
        )

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    def put_file(
        self, key: str, path: Path, *, content_type: str, cache_control: str
    ) -> StoredObject:
        validate_key(key)
        require_headers(content_type, cache_control)
        extra = {"ContentType": content_type, "CacheControl": cache_control}
        try:
            # Multipart above the threshold; boto3 aborts the upload if a part fails.
            self._client.upload_file(
                os.fspath(path), self.bucket, key, ExtraArgs=extra, Config=self._transfer
            )
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise _storage_error("upload", key, exc) from exc
        stored = self.stat(key)
        if stored is None:
            raise StorageError(f"S3 upload of {key!r} finished but the object is not there")
        return stored

    def put_bytes(
        self, key: str, data: bytes, *, content_type: str, cache_control: str
    ) -> StoredObject:
        validate_key(key)
        require_headers(content_type, cache_control)
        try:
            answer = self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl=cache_control,
            )
        except (ClientError, BotoCoreError) as exc:
            raise _storage_error("upload", key, exc) from exc
        return StoredObject(key, len(data), content_type, _unquote(answer["ETag"]), cache_control)

    def stat(self, key: str) -> StoredObject | None:
        validate_key(key)
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _status(exc) == 404:
                return None
            raise _storage_error("stat", key, exc) from exc
        except BotoCoreError as exc:
            raise _storage_error("stat", key, exc) from exc
        return StoredObject(
            key,
            int(head["ContentLength"]),
            str(head.get("ContentType", "application/octet-stream")),
            _unquote(head["ETag"]),
            str(head.get("CacheControl", "")),
        )

    def read_bytes(self, key: str) -> bytes:
        validate_key(key)
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=key)
            body: bytes = answer["Body"].read()
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                raise ObjectNotFound(key) from None
            raise _storage_error("read", key, exc) from exc
        except BotoCoreError as exc:
            raise _storage_error("read", key, exc) from exc
        return body

    def local_path(self, key: str) -> Path | None:
        validate_key(key)
        return None

    def presigned_url(
        self, key: str, *, expires_seconds: int, filename: str | None = None
    ) -> str | None:
        """A short-lived GET URL; with `filename`, the browser saves it under that name.

        Signing is local (no request to S3), so the object is not checked to exist.
        """
        validate_key(key)
        if not 1 <= expires_seconds <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires_seconds must be 1..{MAX_PRESIGN_SECONDS}")
        params = {"Bucket": self.bucket, "Key": key}
        if filename is not None:
            params["ResponseContentDisposition"] = _content_disposition(filename)
        url: str = self._client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_seconds
        )
        return url

    def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        removed = 0
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": self.delete_batch}
            )
            for page in pages:
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if not keys:
                    continue
                answer = self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
                )
                errors = answer.get("Errors", [])
                if errors:
                    first = errors[0]
                    raise StorageError(
                        f"S3 refused to delete {len(errors)} object(s) under {prefix!r}, "
                        f"e.g. {first.get('Key')!r}: {first.get('Code')}"
                    )
                removed += len(keys)
        except (ClientError, BotoCoreError) as exc:
            raise _storage_error("delete", prefix, exc) from exc
        return removed

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with `prefix` (all keys for ""), page by page."""
        if prefix:
            validate_prefix(prefix)
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield str(item["Key"])
        except (ClientError, BotoCoreError) as exc:
            raise _storage_error("list", prefix or "/", exc) from exc

    def check(self) -> None:
        where = f"S3 bucket {self.bucket!r}" + (
            f" at {self.endpoint_url}" if self.endpoint_url else ""
        )
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            status = _status(exc)
            if status == 404:
                reason = "does not exist"
            elif status == 403:
                reason = "is not accessible with these credentials (403 Forbidden)"
            else:
                reason = f"answered {_code(exc)} (HTTP {status})"
            raise ConfigurationError(f"{where} {reason}") from exc
        except BotoCoreError as exc:
            raise ConfigurationError(f"{where} cannot be reached: {exc}") from exc


def _unquote(etag: Any) -> str:
    return str(etag).strip('"')


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def _storage_error(operation: str, key: str, exc: Exception) -> StorageError:
    if isinstance(exc, ClientError):
        detail = f"{_code(exc)} (HTTP {_status(exc)})"
    else:
        detail = type(exc).__name__
    return StorageError(f"S3 {operation} of {key!r} failed: {detail}")
