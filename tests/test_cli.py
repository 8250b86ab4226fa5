"""The `billreel` command: local render, key creation, and the embedded in-process worker."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from app import create_app
from app.cli import main
from app.keys import authenticate
from app.services import Services
from app.settings import Settings
from tests.factories import make_bill, make_render_request

ROOT = Path(__file__).resolve().parents[1]


def test_render_writes_every_output_and_a_site_that_works_from_disk(tmp_path: Path) -> None:
    bill = tmp_path / "bill.json"
    bill.write_text(json.dumps(make_bill()), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(bill), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("video.mp4", "poster.jpg", "captions.vtt", "site/index.html"):
        assert (out / name).stat().st_size > 0, name
    html = (out / "site" / "index.html").read_text(encoding="utf-8")
    assert 'src="../video.mp4"' in html


def test_render_lists_every_problem_of_an_invalid_bill(tmp_path: Path) -> None:
    doc = make_bill()
    doc["bill"]["total"] = "1.234"
    doc["customer"]["id"] = ""
    bill = tmp_path / "bad.json"
    bill.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "render", str(bill), "--out", str(out)],
        cwd=ROOT,
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
    from app.keys import create_key

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
