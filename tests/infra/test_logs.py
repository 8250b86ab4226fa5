"""JSON logs carry the render and job ids and never a customer's name, e-mail, IBAN or amount."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.access.keys import create_key
from app.infra.logs import PrivateJsonFormatter, log_context
from app.infra.services import Services
from app.infra.settings import Settings
from app.wiring import create_app
from tests.factories import make_render_request
from tests.paths import REPO_ROOT

# Values no log line has any business holding, in every spelling a renderer might produce.
NAME = "Quillanova Zanzibarek"
EMAIL = "quillanova.zanzibarek@example.org"
IBAN = "GB82WEST12345698765432"
TOTAL = "7319.46"
SECRETS = [
    NAME,
    "Quillanova",
    "Zanzibarek",
    EMAIL,
    IBAN,
    "GB82 WEST 1234 5698 7654 32",
    "7319.46",
    "7319,46",
    "7.319,46",
    "7,319.46",
    "7 319,46",
    "7\u202f319,46",
    "7\u00a0319,46",
]


def distinctive_request() -> dict[str, object]:
    return make_render_request(
        **{
            "data.customer.name": NAME,
            "data.customer.locale": "it-IT",
            "data.bill.total": TOTAL,
            "data.bill.lines": [{"label": "Energia", "category": "energy", "amount": TOTAL}],
            "data.payment.sepa.iban": IBAN,
            "data.extra": {"email": EMAIL},
        }
    )


def leaks(lines: list[str]) -> list[str]:
    return [line for line in lines if any(secret in line for secret in SECRETS)]


def test_a_render_through_the_api_and_a_worker_logs_ids_and_no_customer_data(
    redis_server: str, tmp_path: Path
) -> None:
    api_log = io.StringIO()
    handler = logging.StreamHandler(api_log)
    handler.setFormatter(PrivateJsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)  # the API's debug lines too
    data_dir = tmp_path / "var"
    try:
        app = create_app(Settings(data_dir=data_dir, redis_url=redis_server))
        services: Services = app.extensions["billreel"]
        client = app.test_client()
        auth = {"Authorization": f"Bearer {create_key(services.db, 'logs')}"}
        created = client.post("/v1/renders", json=distinctive_request(), headers=auth)
        assert created.status_code == 202, created.get_json()
        render_id = created.get_json()["id"]
        # A rejected one too: the API's error path must not log the bill either.
        bad = distinctive_request()
        bad["data"]["bill"]["total"] = "1.234"  # type: ignore[index]
        assert client.post("/v1/renders", json=bad, headers=auth).status_code == 422

        env = {
            **os.environ,
            "BILLREEL_DATA_DIR": str(data_dir),
            "BILLREEL_REDIS_URL": redis_server,
            "BILLREEL_LOG_LEVEL": "debug",  # every line the worker could write
        }
        worker = subprocess.run(
            [sys.executable, str(REPO_ROOT / "worker.py"), "--burst"],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=280,
        )
        assert worker.returncode == 0, worker.stderr[-3000:]
        body = client.get(f"/v1/renders/{render_id}", headers=auth).get_json()
        assert body["status"] == "done", body
        services.db.dispose()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

    worker_lines = [line for line in (worker.stdout + worker.stderr).splitlines() if line.strip()]
    api_lines = [line for line in api_log.getvalue().splitlines() if line.strip()]
    assert worker_lines and api_lines
    assert leaks(worker_lines + api_lines) == []
    entries = [json.loads(line) for line in worker_lines]  # every worker line is JSON
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    ours = [e for e in entries if e.get("render_id") == render_id]
    assert any(e["message"] == "render done" for e in ours)
    assert all(e.get("job_id") == render_id for e in ours if e["logger"].startswith("app."))


def test_extras_outside_the_allow_list_never_reach_a_line() -> None:
    record = logging.LogRecord("app.x", logging.INFO, __file__, 1, "render queued", None, None)
    record.customer_name = NAME
    record.amount = TOTAL
    record.render_id = "rnd_1"
    with log_context(batch_id="bat_1"):
        entry = json.loads(PrivateJsonFormatter().format(record))
    assert entry == {
        "time": entry["time"],
        "level": "info",
        "logger": "app.x",
        "message": "render queued",
        "render_id": "rnd_1",
        "batch_id": "bat_1",
    }


def test_an_exception_is_logged_by_type_and_place_never_by_message() -> None:
    try:
        raise ValueError(f"input_value='{NAME}' is not valid")
    except ValueError:
        record = logging.LogRecord(
            "rq.worker", logging.ERROR, __file__, 1, "job failed\nTraceback ... %s", (IBAN,), None
        )
        record.exc_info = sys.exc_info()
    line = PrivateJsonFormatter().format(record)
    assert leaks([line]) == []
    entry = json.loads(line)
    assert entry["message"] == "job failed"
    assert entry["exception"].startswith("ValueError at test_logs.py:")


def test_log_context_refuses_a_field_outside_the_allow_list() -> None:
    with pytest.raises(ValueError, match="customer_name"), log_context(customer_name=NAME):
        pass
