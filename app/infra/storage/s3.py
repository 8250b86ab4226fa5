"""Objects in an S3 bucket (boto3): one PUT, or a multipart upload S3 shows only when it
completes; short-lived presigned URLs for the customer's downloads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.infra.errors import ConfigurationError
from app.infra.storage.base import ObjectNotFound, StorageError, StoredObject
from app.infra.storage.keys import (
    content_disposition,
    require_headers,
    validate_key,
    validate_prefix,
)

S3_CONNECT_TIMEOUT_SECONDS = 5.0
S3_READ_TIMEOUT_SECONDS = 60.0
S3_MAX_ATTEMPTS = 5  # first try included; botocore's "standard" retry mode backs off
S3_MAX_POOL_CONNECTIONS = 16  # >= the transfer manager's threads plus request threads
S3_DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys per call
DEFAULT_MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024  # larger files go up in parts
DEFAULT_MULTIPART_CHUNK_BYTES = 8 * 1024 * 1024  # S3's minimum part size is 5 MiB
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4's longest allowed expiry


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
            params["ResponseContentDisposition"] = content_disposition(filename)
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
