"""The `billreel` command: local render, key creation, and the embedded in-process worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from app.access.keys import authenticate
from app.cli import main
from app.infra.services import Services
from app.infra.settings import Settings
from app.wiring import create_app
from tests.factories import make_bill, make_render_request
from tests.paths import REPO_ROOT


def test_render_writes_every_output_and_a_site_that_works_from_disk(tmp_path: Path) -> None:
    bill = tmp_path / "bill.json"
    bill.write_text(json.dumps(make_bill()), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(bill), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("video.mp4", "poster.jpg", "captions.vtt", "chapters.vtt", "site/index.html"):
        assert (out / name).stat().st_size > 0, name
    html = (out / "site" / "index.html").read_text(encoding="utf-8")
    assert 'src="../video.mp4"' in html and 'src="../chapters.vtt"' in html
    # Narrated with the configured voice; its working files are gone.
    assert sorted(p.name for p in out.iterdir()) == [
        "captions.vtt",
        "chapters.vtt",
        "poster.jpg",
        "site",
        "video.mp4",
    ]


def test_render_uses_the_configured_voice(tmp_path: Path) -> None:
    bill = tmp_path / "bill.json"
    bill.write_text(json.dumps(make_bill()), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["render", str(bill), "--out", str(tmp_path / "out")], env={"BILLREEL_VOICE": "x"}
    )
    assert result.exit_code != 0
    assert "BILLREEL_VOICE" in str(result.exception) + result.output


def test_render_lists_every_problem_of_an_invalid_bill(tmp_path: Path) -> None:
    doc = make_bill()
    doc["bill"]["total"] = "1.234"
    doc["customer"]["id"] = ""
    bill = tmp_path / "bad.json"
    bill.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "render", str(bill), "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "/bill/total" in result.stderr
    assert "/customer/id" in result.stderr
    assert not out.exists()


def test_keys_create_prints_a_working_key(tmp_path: Path, monkeypatch: object) -> None:
    env = {"BILLREEL_DATA_DIR": str(tmp_path / "var")}
    result = CliRunner().invoke(main, ["keys", "create", "billing-system"], env=env)
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    services = Services.build(Settings(data_dir=tmp_path / "var"))
    assert authenticate(services.db, key) is not None
    services.db.dispose()


def test_embedded_worker_renders_in_process(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "var"))
    services: Services = app.extensions["billreel"]
    from app.access.keys import create_key

    auth = {"Authorization": f"Bearer {create_key(services.db, 'inproc')}"}
    request = make_render_request()
    request["outputs"] = ["microsite"]
    client = app.test_client()
    render_id = client.post("/v1/renders", json=request, headers=auth).get_json()["id"]
    deadline = time.monotonic() + 60
    status = "queued"
    while status not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        status = client.get(f"/v1/renders/{render_id}", headers=auth).get_json()["status"]
    assert status == "done"
    assert services.queue is not None
    services.queue.close()
    services.db.dispose()


def test_batch_uploads_a_file_waits_for_its_renders_and_resumes_it(tmp_path: Path) -> None:
    from werkzeug.serving import make_server

    from app.access.keys import create_key

    app = create_app(Settings(data_dir=tmp_path / "var"))
    services: Services = app.extensions["billreel"]
    key = create_key(services.db, "cli-batch")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api_url = f"http://127.0.0.1:{server.server_port}"
    lines = [
        make_render_request(
            outputs=["microsite"], external_id=f"run-{n}", **{"data.customer.id": f"C{n}"}
        )
        for n in range(2)
    ]
    lines.append(make_render_request(**{"data.bill.total": "1.234"}))  # rejected: line 3
    run = tmp_path / "run.ndjson"
    run.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    results = tmp_path / "results.ndjson"
    args = ["batch", str(run), "--api-url", api_url, "--results", str(results), "--poll", "0.2"]
    try:
        first = CliRunner().invoke(main, args, env={"BILLREEL_API_KEY": key})
        again = CliRunner().invoke(main, [*args, "--no-wait"], env={"BILLREEL_API_KEY": key})
        refused = CliRunner().invoke(main, args, env={"BILLREEL_API_KEY": "wrong"})
    finally:
        server.shutdown()
    assert first.exit_code == 1, first.output  # a rejected line is worth a non-zero status
    assert "2 accepted, 1 rejected" in first.output
    assert "line 3: /data/bill/total:" in first.output
    assert "renders: 2 done, 0 failed" in first.output
    written = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    assert [(r["external_id"], r["status"]) for r in written] == [
        ("run-0", "done"),
        ("run-1", "done"),
    ]
    # The same file again: its SHA-256 is the Idempotency-Key, so the same batch, nothing new.
    batch_id = first.output.split("batch ", 1)[1].split(":", 1)[0]
    assert f"batch {batch_id}: 2 accepted" in again.output
    with services.db.session() as session:
        from sqlalchemy import func, select

        from app.infra.database import Render

        assert session.execute(select(func.count()).select_from(Render)).scalar_one() == 2
    assert refused.exit_code == 2
    assert "401" in refused.output
    assert services.queue is not None
    services.queue.close()
    services.db.dispose()


def test_status_shows_queues_workers_and_stuck_renders(redis_server: str, tmp_path: Path) -> None:
    from datetime import timedelta

    from redis import Redis
    from rq import Worker
    from sqlalchemy import update

    from app.access.keys import create_key
    from app.infra.database import Render, utcnow

    data_dir = tmp_path / "var"
    app = create_app(Settings(data_dir=data_dir, redis_url=redis_server))
    services: Services = app.extensions["billreel"]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {create_key(services.db, 'status')}"}
    ids = [
        client.post("/v1/renders", json=make_render_request(), headers=auth).get_json()["id"]
        for _ in range(3)
    ]
    with services.db.session() as session:  # one render silent for an hour: stuck
        session.execute(
            update(Render)
            .where(Render.id == ids[0])
            .values(updated_at=utcnow() - timedelta(hours=1))
        )
    connection = Redis.from_url(redis_server)
    worker = Worker(["ondemand", "batch"], connection=connection, name="render-box-1")
    worker.register_birth()  # a real RQ worker's record, as a running worker keeps it
    env = {"BILLREEL_DATA_DIR": str(data_dir), "BILLREEL_REDIS_URL": redis_server}
    try:
        text = CliRunner().invoke(main, ["status"], env=env)
        as_json = CliRunner().invoke(main, ["status", "--json"], env=env)
    finally:
        worker.register_death()
    assert text.exit_code == 0, text.output
    assert "ondemand" in text.output and "batch" in text.output
    assert "workers: 1" in text.output and "render-box-1" in text.output
    assert f"{ids[0]} queued since" in text.output
    report = json.loads(as_json.output)
    queues = {q["name"]: q for q in report["queues"]}
    assert queues["ondemand"]["waiting"] == 3 and queues["batch"]["waiting"] == 0
    assert [w["name"] for w in report["workers"]] == ["render-box-1"]
    assert report["renders"]["queued"] == 3
    assert report["stuck_count"] == 1 and report["stuck"][0]["id"] == ids[0]
    services.db.dispose()


def test_one_worker_command_runs_and_supervises_several_workers(
    redis_server: str, tmp_path: Path
) -> None:
    import signal

    import psutil
    from redis import Redis
    from rq import Worker

    env = {
        **os.environ,
        "BILLREEL_DATA_DIR": str(tmp_path / "var"),
        "BILLREEL_REDIS_URL": redis_server,
        "BILLREEL_WORKERS": "2",
    }
    pool = subprocess.Popen([sys.executable, str(REPO_ROOT / "worker.py")], env=env, cwd=REPO_ROOT)
    connection = Redis.from_url(redis_server)

    def children() -> list[psutil.Process]:
        return [c for c in psutil.Process(pool.pid).children() if c.status() != "zombie"]

    def wait_for(check: Callable[[], bool], what: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            assert pool.poll() is None, f"the pool exited with {pool.returncode}"
            assert time.monotonic() < deadline, what
            time.sleep(0.2)

    try:
        wait_for(lambda: Worker.count(connection=connection) == 2, "two RQ workers registered")
        killed = children()[0]
        orphans = killed.children(recursive=True)  # its RQ scheduler outlives a SIGKILL
        killed.kill()  # as the OOM killer would: the pool starts another
        for orphan in orphans:
            orphan.kill()
        wait_for(
            lambda: len(children()) == 2 and killed.pid not in [c.pid for c in children()],
            "a new worker process in place of the killed one",
        )
        # Stopped once the new one works (is registered), not while it is still warming up.
        wait_for(
            lambda: (
                {c.pid for c in children()} <= {w.pid for w in Worker.all(connection=connection)}
            ),
            "the new worker registered",
        )
        family = psutil.Process(pool.pid).children(recursive=True)  # RQ's schedulers too
        pool.send_signal(signal.SIGTERM)  # warm shutdown of every child, then of the pool
        assert pool.wait(timeout=60) == 0
        _, alive = psutil.wait_procs(family, timeout=30)
        for process in alive:  # an RQ scheduler lingering: not ours to judge, just stop it
            process.kill()
    finally:
        if pool.poll() is None:  # the children run in sessions of their own: stop them too
            for child in children():
                child.kill()
            pool.kill()


def test_render_takes_a_version_of_the_store(tmp_path: Path) -> None:
    """--template NAME@N renders that version of the data directory's store; NAME the
    published one; an unknown version exits 2 naming it."""
    from app.templates import store
    from app.templates.lookup import find_version

    data_dir = tmp_path / "cli-var"
    services = Services.build(Settings(data_dir=data_dir))
    find_version(services, "bill-explainer")
    draft = store.create_draft(services, "bill-explainer", author="cli test", from_number=1)
    po = "microsite/messages/it.po"
    text = store.read_files(services, draft)[po].replace(b'"Ciao {name}"', b'"Salve {name}"')
    store.save_draft(
        services, "bill-explainer", 2, if_match=draft.etag, changes={po: text}, author="t"
    )
    store.publish(services, "bill-explainer", 2, author="t")
    services.db.dispose()

    bill = tmp_path / "bill.json"
    bill.write_text(json.dumps(make_bill()), encoding="utf-8")
    pages = {}
    for ref in ("bill-explainer", "bill-explainer@1"):
        out = tmp_path / ref
        result = CliRunner().invoke(
            main,
            ["render", str(bill), "--out", str(out), "--template", ref, "--outputs", "microsite"],
        )
        assert result.exit_code == 0, result.output
        pages[ref] = (out / "site" / "index.html").read_text(encoding="utf-8")
    assert "Salve Giulia" in pages["bill-explainer"]
    assert "Ciao Giulia" in pages["bill-explainer@1"]

    missing = CliRunner().invoke(
        main, ["render", str(bill), "--out", str(tmp_path / "x"), "--template", "bill-explainer@9"]
    )
    assert missing.exit_code == 2
    assert "no version 9" in missing.output


def test_keys_create_takes_a_scope(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["keys", "create", "brand team", "--scope", "marketing"])
    assert result.exit_code == 0, result.output
    services = Services.build(Settings(data_dir=tmp_path / "cli-var"))
    key = authenticate(services.db, result.output.strip().splitlines()[-1])
    assert key is not None and key.scope == "marketing"
    services.db.dispose()
