"""`/openapi.json` is a valid OpenAPI 3.1 document generated from the models."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from openapi_spec_validator import validate

from app.api.openapi import OPERATIONS


def test_openapi_document_is_valid_and_complete(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    for path, method in [
        ("/v1/renders", "post"),
        ("/v1/renders/{id}", "get"),
        ("/v1/batches", "post"),
        ("/v1/batches/{id}", "get"),
        ("/v1/batches/{id}/results", "get"),
        ("/v1/batches/{id}/analytics", "get"),
        ("/v1/renders/{id}/payments", "post"),
        ("/healthz", "get"),
    ]:
        assert method in paths[path], (path, method)
    analytics = paths["/v1/batches/{id}/analytics"]["get"]
    assert "text/csv" in analytics["responses"]["200"]["content"]
    assert {"name": "format", "in": "query"}.items() <= analytics["parameters"][1].items()
    payments = paths["/v1/renders/{id}/payments"]["post"]
    assert {"201", "422"} <= set(payments["responses"])
    schemas = document["components"]["schemas"]
    assert {"RenderRequest", "RenderOut", "Problem", "BatchAccepted"} <= set(schemas)
    assert "total" in str(schemas)  # the bill model itself is described


def test_every_operation_is_routed(client: FlaskClient) -> None:
    rules = {
        (r.rule, m.lower())
        for r in client.application.url_map.iter_rules()
        for m in r.methods or ()
    }
    for op in OPERATIONS:
        flask_path = (
            op.path.replace("{id}", "<render_id>" if "renders" in op.path else "<batch_id>")
            .replace("{customer_id}", "<customer_id>")
            .replace("{key_id}", "<key_id>")
            .replace("{session_id}", "<session_id>")
            .replace("{name}", "<name>")
            .replace("{render_id}", "<render_id>")
            .replace("{number}", "<int:number>")
            .replace("{experiment_id}", "<experiment_id>")
        )
        assert (flask_path, op.method) in rules, op.path


def test_every_v1_route_is_described(client: FlaskClient) -> None:
    described = {
        (re.sub(r"<(?:int:)?(\w+)>", "{x}", re.sub(r"\{\w+\}", "{x}", op.path)), op.method)
        for op in OPERATIONS
    }
    for rule in client.application.url_map.iter_rules():
        if not rule.rule.startswith("/v1/"):
            continue
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            path = re.sub(r"<(?:int:)?(\w+)>", "{x}", rule.rule)
            assert (path, method.lower()) in described, (rule.rule, method)
