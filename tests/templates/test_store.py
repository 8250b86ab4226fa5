"""The template store on real databases and object storage: concurrent saves and publishes,
one published version at all times, blobs checked, a fleet rendering the same bytes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.infra.services import Services
from app.infra.settings import Settings
from app.infra.storage import StorageError
from app.templates import store
from app.templates.blobs import BlobMissing, blob_key
from app.templates.bundles import bundle_for
from app.templates.files import digest, shipped_files
from app.templates.lookup import find_version
from renderers import render
from tests.factories import make_bill
from tests.pg import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.s3server import (
    MotoServer,
    moto_server_fixture,  # noqa: F401 (the moto_server fixture)
    s3_bucket_fixture,  # noqa: F401 (the s3_bucket fixture)
)

NAME = "bill-explainer"
IT = "scenes/narration/it.yaml"


@pytest.fixture(params=["sqlite", "postgresql"])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    built = Services.build(Settings(data_dir=tmp_path / "var", database_url=url))
    find_version(built, NAME)  # the shipped bundle, imported on first need
    yield built
    built.db.dispose()


def edited(
    services: Services, version: store.VersionInfo, old: bytes, new: bytes, path: str = IT
) -> dict[str, bytes | None]:
    text = store.read_files(services, version)[path]
    assert old in text
    return {path: text.replace(old, new)}


def test_the_first_version_is_the_shipped_bundle(services: Services) -> None:
    first = store.resolve(services.db, NAME)
    assert (first.number, first.state, first.author) == (1, "published", "billreel")
    assert first.digest == digest(shipped_files(NAME))
    assert store.read_files(services, first) == shipped_files(NAME)


def test_of_two_saves_from_one_etag_exactly_one_wins(services: Services) -> None:
    draft = store.create_draft(services, NAME, author="a", from_number=1)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def save(greeting: bytes) -> None:
        barrier.wait()
        try:
            store.save_draft(
                services, NAME, draft.number, if_match=draft.etag, author=greeting.decode(),
                changes=edited(services, draft, b"Ciao {name}", greeting + b" {name}"),
            )  # fmt: skip
            outcomes.append("saved")
        except store.StaleVersion as exc:
            outcomes.append(f"stale:{exc.current.revision}")

    threads = [threading.Thread(target=save, args=(g,)) for g in (b"Salve", b"Buongiorno")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["saved", "stale:2"]
    now = store.get_version(services.db, NAME, draft.number)
    text = store.read_files(services, now)[IT].decode()
    assert f'"{now.updated_by} {{name}}"' in text  # the winner's text, whole


def test_concurrent_publishes_leave_exactly_one_published(services: Services) -> None:
    drafts = [store.create_draft(services, NAME, author="a", from_number=1) for _ in range(3)]
    barrier = threading.Barrier(len(drafts))
    errors: list[BaseException] = []

    def publish(number: int) -> None:
        barrier.wait()
        try:
            store.publish(services, NAME, number, author="a")
        except BaseException as exc:  # the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(d.number,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    states = [v.state for v in store.list_versions(services.db, NAME)]
    assert states.count("published") == 1 and states.count("draft") == 0
    summary = store.list_templates(services.db)[0]
    assert summary.published == store.resolve(services.db, NAME).number


def test_a_blob_changed_in_storage_is_refused(services: Services) -> None:
    first = store.resolve(services.db, NAME)
    sha = str(first.files[IT]["sha256"])
    services.storage.put_bytes(
        blob_key(sha),
        b"tampered",
        content_type="application/octet-stream",
        cache_control="no-store",
    )
    with pytest.raises(BlobMissing, match="other bytes"):
        store.read_files(services, first)


def test_workers_on_two_machines_render_the_same_bytes_for_a_version(
    tmp_path: Path, s3_bucket: str, moto_server: MotoServer
) -> None:
    """Two processes with their own data directories share the database and S3: each builds
    the version's folder from the blobs and renders the same microsite, byte for byte."""
    shared_db = f"sqlite:///{tmp_path / 'shared.db'}"
    machines = [
        Services.build(
            Settings(
                data_dir=tmp_path / name,
                database_url=shared_db,
                s3_bucket=s3_bucket,
                s3_endpoint_url=moto_server.endpoint_url,
            )
        )
        for name in ("machine-a", "machine-b")
    ]
    try:
        api = machines[0]
        find_version(api, NAME)
        draft = store.create_draft(api, NAME, author="a", from_number=1)
        draft = store.save_draft(
            api, NAME, draft.number, if_match=draft.etag, author="a",
            changes=edited(api, draft, b'"Ciao', b'"Salve', "microsite/messages/it.po"),
        )  # fmt: skip
        store.publish(api, NAME, draft.number, author="a")
        pages = []
        for machine in machines:
            bundle = bundle_for(machine, store.resolve(machine.db, NAME))
            assert bundle.versioned_name == f"{NAME}@2"
            assert str(machine.settings.data_dir) in str(bundle.scenes_dir)
            out = render(
                make_bill(),
                bundle,
                ["microsite"],
                tmp_path / machine.settings.data_dir.name / "out",
            )
            assert out.site is not None
            pages.append(out.site.read_bytes())
        assert pages[0] == pages[1]
        assert b"Salve Giulia" in pages[0]
    finally:
        for machine in machines:
            machine.db.dispose()


def test_storage_failures_on_save_write_nothing(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = store.create_draft(services, NAME, author="a", from_number=1)

    def broken(*args: object, **kwargs: object) -> None:
        raise StorageError("storage is down")

    monkeypatch.setattr(services.storage, "put_bytes", broken)
    with pytest.raises(StorageError):
        store.save_draft(
            services, NAME, draft.number, if_match=draft.etag, author="a",
            changes=edited(services, draft, b"Ciao {name}", b"Salve {name}"),
        )  # fmt: skip
    assert store.get_version(services.db, NAME, draft.number).etag == draft.etag
