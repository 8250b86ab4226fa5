"""Storage: the same behaviour from LocalStorage and from S3Storage against a real S3 endpoint.

The S3 side talks HTTP to moto's server mode (tests/s3server.py), never to a mock object.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app.infra.errors import BillreelError, ConfigurationError
from app.infra.settings import Settings
from app.infra.storage import (
    CONTENT_TYPES,
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    output_key,
    storage_from_settings,
)
from tests.s3server import (
    MotoServer,
    moto_server_fixture,  # noqa: F401 (the moto_server fixture)
    s3_bucket_fixture,  # noqa: F401 (the s3_bucket fixture)
    s3_client,
    unique_bucket_name,
)

MIB = 1024 * 1024
PART_BYTES = 5 * MIB  # S3's smallest part size: big files go up in several parts
BIG_BYTES = 12 * MIB  # three parts
CACHE = "private, max-age=31536000, immutable"
HTTP_TIMEOUT_SECONDS = 30


def make_s3(moto_server: MotoServer, bucket: str) -> S3Storage:
    return S3Storage(
        bucket,
        endpoint_url=moto_server.endpoint_url,
        multipart_threshold=PART_BYTES,
        multipart_chunksize=PART_BYTES,
    )


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    server: MotoServer = request.getfixturevalue("moto_server")
    return make_s3(server, request.getfixturevalue("s3_bucket"))


@pytest.fixture
def s3_store(moto_server: MotoServer, s3_bucket: str) -> S3Storage:
    return make_s3(moto_server, s3_bucket)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def leftover_temp_files(root: Path) -> list[str]:
    return [str(p) for p in root.rglob(".tmp-*")]


# --- round trips -------------------------------------------------------------------------


def test_put_bytes_round_trip(store: Storage) -> None:
    key = output_key("rnd_1", "captions.vtt")
    data = "WEBVTT\n\n00:00.000 --> 00:01.000\nCiao Giulia, 84,20 €\n".encode()

    stored = store.put_bytes(
        key, data, content_type=CONTENT_TYPES["captions.vtt"], cache_control=CACHE
    )

    assert (stored.key, stored.size) == (key, len(data))
    assert stored.content_type == "text/vtt; charset=utf-8"
    assert stored.etag and '"' not in stored.etag
    assert store.stat(key) == stored
    assert store.read_bytes(key) == data


@pytest.mark.parametrize("name", sorted(CONTENT_TYPES))
def test_put_file_keeps_content_type_and_cache_control(
    store: Storage, tmp_path: Path, name: str
) -> None:
    source = write(tmp_path / "work" / name, os.urandom(1000) + name.encode())
    key = output_key("rnd_2", name)

    stored = store.put_file(key, source, content_type=CONTENT_TYPES[name], cache_control=CACHE)

    found = store.stat(key)
    assert found is not None
    assert found == stored
    assert (found.size, found.content_type, found.cache_control) == (
        1000 + len(name),
        CONTENT_TYPES[name],
        CACHE,
    )
    assert store.read_bytes(key) == source.read_bytes()


def test_s3_objects_carry_their_headers(
    s3_store: S3Storage,
    moto_server: MotoServer,
    tmp_path: Path,
) -> None:
    key = output_key("rnd_3", "video.mp4")
    small = output_key("rnd_3", "site/index.html")
    s3_store.put_file(
        key, write(tmp_path / "v.mp4", b"\0" * 4096), content_type="video/mp4", cache_control=CACHE
    )
    s3_store.put_bytes(
        small, b"<p>hi</p>", content_type=CONTENT_TYPES["site/index.html"], cache_control="no-cache"
    )

    client = s3_client(moto_server.endpoint_url)
    head = client.head_object(Bucket=s3_store.bucket, Key=key)
    assert (head["ContentType"], head["CacheControl"], head["ContentLength"]) == (
        "video/mp4",
        CACHE,
        4096,
    )
    head = client.head_object(Bucket=s3_store.bucket, Key=small)
    assert (head["ContentType"], head["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")


def test_overwrite_is_atomic(store: Storage, tmp_path: Path) -> None:
    """A reader polling while a big object is written, then replaced, sees only whole ones."""
    first = write(tmp_path / "work" / "a.mp4", b"a" * BIG_BYTES)
    second = write(tmp_path / "work" / "b.mp4", b"b" * BIG_BYTES)
    wholes = {b"a" * BIG_BYTES, b"b" * BIG_BYTES}
    key = output_key("rnd_4", "video.mp4")
    seen: list[int] = []
    problems: list[str] = []
    writing = threading.Event()
    writing.set()

    def reader() -> None:
        while writing.is_set():
            try:
                data = store.read_bytes(key)
            except ObjectNotFound:
                continue
            seen.append(len(data))
            if data not in wholes:
                problems.append(f"partial object: {len(data)} bytes")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for source in (first, second, first):
            stored = store.put_file(key, source, content_type="video/mp4", cache_control=CACHE)
            assert stored.size == BIG_BYTES
    finally:
        writing.clear()
        thread.join()

    assert problems == []
    print(f"reads during the writes: {len(seen)}")
    assert store.read_bytes(key) == b"a" * BIG_BYTES
    if isinstance(store, LocalStorage):
        assert leftover_temp_files(store.root) == []
    else:
        assert isinstance(store, S3Storage)
        assert stored.etag.endswith("-3")  # a three-part upload, visible only once complete
        uploads = store._client.list_multipart_uploads(Bucket=store.bucket)
        assert uploads.get("Uploads", []) == []


def test_failed_put_keeps_the_old_object(store: Storage, tmp_path: Path) -> None:
    key = output_key("rnd_5", "poster.jpg")
    store.put_bytes(key, b"old poster", content_type="image/jpeg", cache_control=CACHE)

    with pytest.raises(OSError):
        store.put_file(
            key, tmp_path / "missing.jpg", content_type="image/jpeg", cache_control=CACHE
        )

    assert store.read_bytes(key) == b"old poster"
    if isinstance(store, LocalStorage):
        assert leftover_temp_files(store.root) == []


def test_local_stat_survives_a_new_instance_and_derives_without_metadata(tmp_path: Path) -> None:
    root = tmp_path / "files"
    key = output_key("rnd_6", "site/index.html")
    LocalStorage(root).put_bytes(
        key, b"<html>", content_type="text/html; charset=utf-8", cache_control=CACHE
    )
    found = LocalStorage(root).stat(key)
    assert found is not None and found.cache_control == CACHE

    by_hand = output_key("rnd_6", "poster.jpg")
    write(root / by_hand, b"jpeg")
    derived = LocalStorage(root).stat(by_hand)
    assert derived is not None
    assert (derived.size, derived.content_type) == (4, "image/jpeg")


# --- absent objects ----------------------------------------------------------------------


def test_missing_objects(store: Storage) -> None:
    key = output_key("rnd_missing", "video.mp4")
    assert store.stat(key) is None
    with pytest.raises(ObjectNotFound) as caught:
        store.read_bytes(key)
    assert isinstance(caught.value, BillreelError)
    assert caught.value.key == key


def test_local_path(store: Storage) -> None:
    key = output_key("rnd_7", "video.mp4")
    store.put_bytes(key, b"mp4", content_type="video/mp4", cache_control=CACHE)
    path = store.local_path(key)
    if isinstance(store, LocalStorage):
        assert path is not None and path.read_bytes() == b"mp4"
        assert store.local_path(output_key("rnd_7", "poster.jpg")) is None
    else:
        assert path is None


# --- delete ------------------------------------------------------------------------------


def test_delete_prefix(store: Storage) -> None:
    keys = [
        output_key("rnd_1", "video.mp4"),
        output_key("rnd_1", "site/index.html"),
        output_key("rnd_10", "video.mp4"),
        output_key("rnd_2", "poster.jpg"),
    ]
    for key in keys:
        store.put_bytes(key, b"x", content_type="application/octet-stream", cache_control=CACHE)

    assert store.delete_prefix("renders/rnd_1/") == 2
    assert [store.stat(k) is not None for k in keys] == [False, False, True, True]
    assert store.delete_prefix("renders/rnd_1/") == 0
    assert store.delete_prefix("renders/rnd_") == 2  # a prefix is a string prefix, as in S3
    assert all(store.stat(k) is None for k in keys)
    if isinstance(store, LocalStorage):
        assert not (store.root / "renders").exists()  # emptied directories go too


def test_list_keys(store: Storage) -> None:
    keys = [output_key("rnd_1", "video.mp4"), output_key("rnd_1", "site/index.html")]
    keys.append(output_key("rnd_10", "poster.jpg"))
    for key in keys:
        store.put_bytes(key, b"x", content_type="application/octet-stream", cache_control=CACHE)

    assert sorted(store.list_keys()) == sorted(keys)  # never a sidecar or a temporary file
    assert sorted(store.list_keys("renders/rnd_1/")) == sorted(keys[:2])
    assert sorted(store.list_keys("renders/rnd_1")) == sorted(keys)
    assert list(store.list_keys("renders/rnd_2/")) == []
    with pytest.raises(InvalidKey):
        list(store.list_keys("../"))


@pytest.mark.parametrize("headers", [("", CACHE), ("video/mp4", ""), ("video/mp4", "  ")])
def test_every_object_needs_both_headers(
    store: Storage, tmp_path: Path, headers: tuple[str, str]
) -> None:
    content_type, cache_control = headers
    key = output_key("rnd_h", "video.mp4")
    source = write(tmp_path / "v.mp4", b"mp4")
    with pytest.raises(ValueError, match=r"content_type|cache_control"):
        store.put_bytes(key, b"mp4", content_type=content_type, cache_control=cache_control)
    with pytest.raises(ValueError, match=r"content_type|cache_control"):
        store.put_file(key, source, content_type=content_type, cache_control=cache_control)
    assert store.stat(key) is None


def test_s3_multipart_objects_carry_their_headers(
    s3_store: S3Storage, moto_server: MotoServer, tmp_path: Path
) -> None:
    key = output_key("rnd_mp", "video.mp4")
    source = write(tmp_path / "big.mp4", os.urandom(PART_BYTES + 1024))
    stored = s3_store.put_file(key, source, content_type="video/mp4", cache_control=CACHE)
    assert stored.etag.endswith("-2")  # went up in two parts
    head = s3_client(moto_server.endpoint_url).head_object(Bucket=s3_store.bucket, Key=key)
    assert (head["ContentType"], head["CacheControl"]) == ("video/mp4", CACHE)


@pytest.mark.parametrize("prefix", ["", "/", "../", "renders/../..", "/etc"])
def test_delete_prefix_refuses_unsafe_prefixes(store: Storage, prefix: str) -> None:
    with pytest.raises(InvalidKey):
        store.delete_prefix(prefix)


def test_delete_many_objects(s3_store: S3Storage) -> None:
    """More keys than one list page and one DeleteObjects call take."""
    s3_store.delete_batch = 10
    for n in range(25):
        s3_store.put_bytes(
            f"renders/rnd_many/f{n}", b"", content_type="text/plain", cache_control=CACHE
        )
    assert s3_store.delete_prefix("renders/rnd_many/") == 25


# --- unsafe keys -------------------------------------------------------------------------

UNSAFE_KEYS = [
    "",
    "/etc/passwd",
    "../outside",
    "renders/../../outside",
    "renders/./x",
    "renders//x",
    "renders/x/",
    ".meta/renders/x",
    "renders/.hidden",
    "renders\\x",
    "renders/ü",
    "renders/x y",
    "renders/x\n",
]


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused(store: Storage, key: str) -> None:
    calls: list[Callable[[], Any]] = [
        lambda: store.put_bytes(key, b"x", content_type="text/plain", cache_control=CACHE),
        lambda: store.stat(key),
        lambda: store.read_bytes(key),
        lambda: store.local_path(key),
        lambda: store.presigned_url(key, expires_seconds=60),
    ]
    for call in calls:
        with pytest.raises(InvalidKey):
            call()


def test_local_refuses_a_symlink_out_of_its_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "files"
    (root / "renders").mkdir(parents=True)
    (root / "renders" / "rnd_x").symlink_to(outside)
    store = LocalStorage(root)
    with pytest.raises(InvalidKey, match="outside"):
        store.put_bytes(
            "renders/rnd_x/video.mp4", b"x", content_type="video/mp4", cache_control=CACHE
        )
    assert list(outside.iterdir()) == []


def test_output_key() -> None:
    assert output_key("rnd_ab12", "video.mp4") == "renders/rnd_ab12/video.mp4"
    assert output_key("rnd_ab12", "site/index.html") == "renders/rnd_ab12/site/index.html"
    for render_id, name in [
        ("..", "video.mp4"),
        ("a/b", "video.mp4"),
        ("", "video.mp4"),
        ("rnd_1", "../video.mp4"),
        ("rnd_1", "/video.mp4"),
        ("rnd_1", "site//index.html"),
        ("Giulia Rossi", "video.mp4"),
    ]:
        with pytest.raises(InvalidKey):
            output_key(render_id, name)


# --- presigned URLs ----------------------------------------------------------------------


def test_presigned_url_serves_the_object(s3_store: S3Storage) -> None:
    key = output_key("rnd_8", "video.mp4")
    s3_store.put_bytes(key, b"\0\0\0 ftypisom", content_type="video/mp4", cache_control=CACHE)

    url = s3_store.presigned_url(key, expires_seconds=60)
    assert url is not None
    answer = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
    assert answer.status_code == 200
    assert answer.content == b"\0\0\0 ftypisom"
    assert answer.headers["Content-Type"] == "video/mp4"
    assert answer.headers["Cache-Control"] == CACHE

    named = s3_store.presigned_url(key, expires_seconds=60, filename="bill-video.mp4")
    assert named is not None
    answer = requests.get(named, timeout=HTTP_TIMEOUT_SECONDS)
    assert answer.headers["Content-Disposition"] == 'attachment; filename="bill-video.mp4"'


def test_presigned_url_is_signed_and_short_lived(s3_store: S3Storage) -> None:
    # moto's server does not enforce X-Amz-Expires, so this checks what the URL asks of S3.
    url = s3_store.presigned_url(output_key("rnd_9", "video.mp4"), expires_seconds=1)
    assert url is not None
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["1"]
    assert len(query["X-Amz-Signature"][0]) == 64
    for bad in (0, -5, 8 * 24 * 3600):
        with pytest.raises(ValueError):
            s3_store.presigned_url("renders/rnd_9/video.mp4", expires_seconds=bad)
    with pytest.raises(InvalidKey):
        s3_store.presigned_url("renders/rnd_9/video.mp4", expires_seconds=60, filename='x"; y')


def test_local_has_no_presigned_url(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    assert store.presigned_url("renders/rnd_1/video.mp4", expires_seconds=60) is None


# --- start-up checks and settings --------------------------------------------------------


def test_check_passes(store: Storage) -> None:
    store.check()


def test_check_fails_on_a_missing_bucket(moto_server: MotoServer, s3_bucket: str) -> None:
    name = unique_bucket_name()
    store = make_s3(moto_server, name)
    with pytest.raises(ConfigurationError, match=f"S3 bucket '{name}' at .* does not exist"):
        store.check()


def test_check_fails_on_an_unwritable_directory(tmp_path: Path) -> None:
    blocker = write(tmp_path / "not-a-dir", b"")
    with pytest.raises(ConfigurationError, match=r"not-a-dir.* is not writable"):
        LocalStorage(blocker / "files").check()


def test_storage_from_settings(tmp_path: Path, moto_server: MotoServer, s3_bucket: str) -> None:
    local = storage_from_settings(Settings(data_dir=tmp_path / "var"))
    assert isinstance(local, LocalStorage) and isinstance(local, Storage)
    assert local.root == tmp_path / "var" / "files"

    s3 = storage_from_settings(
        Settings(
            data_dir=tmp_path / "var", s3_bucket=s3_bucket, s3_endpoint_url=moto_server.endpoint_url
        )
    )
    assert isinstance(s3, S3Storage) and isinstance(s3, Storage)
    s3.check()
    s3.put_bytes(
        "renders/rnd_s/captions.vtt", b"WEBVTT\n", content_type="text/vtt", cache_control=CACHE
    )
    assert s3.read_bytes("renders/rnd_s/captions.vtt") == b"WEBVTT\n"
