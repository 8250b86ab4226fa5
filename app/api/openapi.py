"""`GET /openapi.json`: OpenAPI 3.1, its schemas generated from the API's own pydantic models.

Only the list of operations is written here; every body schema comes from the models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api import (
    admin,
    analytics,
    batches,
    experiments,
    figures,
    journeys,
    payments,
    schemas,
    templates,
    webhooks,
)
from app.collection.dimensions import DIMENSIONS
from app.collection.figures import DEFAULT_CURE_DAYS, MAX_CURE_DAYS
from app.intake import RenderRequest
from app.journeys.model import JourneyDefinition

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
NDJSON = "application/x-ndjson"
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    ok_status: int
    ok_model: type[BaseModel] | None
    request_model: type[BaseModel] | None = None
    request_type: str = "application/json"
    ok_type: str = "application/json"
    errors: tuple[int, ...] = (401, 404, 429)
    auth: bool = True
    idempotent: bool = False
    ok_headers: dict[str, str] = field(default_factory=dict)
    query: tuple[dict[str, Any], ...] = ()
    text_ok_types: tuple[str, ...] = ()  # other representations of the success body


OPERATIONS = (
    Operation(
        "post",
        "/v1/renders",
        "Accept one render request",
        202,
        schemas.RenderOut,
        RenderRequest,
        errors=(400, 401, 409, 413, 415, 422, 429),
        idempotent=True,
        ok_headers={"Location": "The render's URL"},
    ),
    Operation("get", "/v1/renders/{id}", "A render's state and links", 200, schemas.RenderOut),
    Operation(
        "post",
        "/v1/batches",
        "Accept a billing run, one render request per NDJSON line",
        202,
        schemas.BatchAccepted,
        RenderRequest,
        request_type=NDJSON,
        errors=(400, 401, 409, 413, 415, 422, 429),
        idempotent=True,
    ),
    Operation(
        "get",
        "/v1/batches/{id}",
        "A batch's renders counted by state; the counts grow while a long run is fanned out",
        200,
        batches.BatchProgress,
    ),
    Operation(
        "post",
        "/v1/batches/{id}/cancel",
        "Cancel a batch: its queued renders become cancelled and are not rendered, running "
        "ones finish; cancelling again changes nothing and returns the same counts",
        200,
        batches.BatchProgress,
    ),
    Operation(
        "get",
        "/v1/batches/{id}/results",
        "One line per accepted render, in input order",
        200,
        schemas.BatchResultLine,
        ok_type=NDJSON,
    ),
    Operation(
        "get",
        "/v1/batches/{id}/analytics",
        "The batch's funnel: counts and rates by template version and tone, time to pay, "
        "bots excluded; ?format=csv for a spreadsheet",
        200,
        analytics.BatchAnalyticsOut,
        query=(
            {
                "name": "format",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
                "description": "csv: rows of dimension, group, step, count, rate",
            },
        ),
        text_ok_types=("text/csv",),
    ),
    Operation(
        "post",
        "/v1/renders/{id}/payments",
        "Report a payment of the render's bill (closes the funnel); a known reference "
        "returns the payment already recorded with 200",
        201,
        payments.PaymentOut,
        payments.PaymentIn,
        errors=(400, 401, 404, 409, 413, 415, 422, 429),
        idempotent=True,
    ),
    Operation(
        "delete",
        "/v1/customers/{customer_id}",
        "Erase a customer: renders, outputs, events, payments, webhooks (GDPR Art. 17)",
        204,
        None,
        errors=(401, 422, 429),
    ),
    Operation(
        "get",
        "/v1/renders/{id}/webhooks",
        "A render's webhook deliveries and attempts",
        200,
        webhooks.WebhookDeliveries,
    ),
    Operation(
        "get",
        "/v1/admin/keys",
        "Every API key: name, scope, account, created, last used, revoked; never a secret "
        "(admin keys only)",
        200,
        admin.KeyList,
        errors=(401, 403, 429),
    ),
    Operation(
        "post",
        "/v1/admin/keys",
        "Make the first key of a new account; its secret is in this answer only (admin keys only)",
        201,
        admin.NewKeyOut,
        admin.KeyIn,
        errors=(400, 401, 403, 413, 415, 422, 429),
    ),
    Operation(
        "post",
        "/v1/admin/keys/{key_id}/rotate",
        "A second key for the same account; both work until the old one is revoked",
        201,
        admin.NewKeyOut,
        errors=(401, 403, 404, 409, 429),
    ),
    Operation(
        "delete",
        "/v1/admin/keys/{key_id}",
        "Revoke a key: 401 at once on every process, and its dashboard sessions end",
        204,
        None,
        errors=(401, 403, 404, 429),
    ),
    Operation(
        "get",
        "/v1/admin/sessions",
        "Dashboard sessions, newest first, with how each ended; ?live=true for live ones "
        "(admin keys only)",
        200,
        admin.SessionList,
        errors=(401, 403, 429),
    ),
    Operation(
        "delete",
        "/v1/admin/sessions/{session_id}",
        "End a dashboard session: its cookie opens nothing again",
        204,
        None,
        errors=(401, 403, 404, 429),
    ),
    Operation(
        "get",
        "/v1/admin/audit",
        "The audit trail, newest first: who changed what, when, through which request; "
        "?action=, ?account=, ?since=, ?until=, ?before= (paging), ?limit=, "
        "?format=ndjson|csv to export (admin keys only)",
        200,
        admin.AuditPage,
        errors=(401, 403, 422, 429),
        text_ok_types=("application/x-ndjson", "text/csv"),
    ),
    Operation(
        "get",
        "/v1/templates",
        "Every template: its published version and how many versions and drafts it has",
        200,
        templates.TemplateList,
    ),
    Operation(
        "get",
        "/v1/templates/{name}/versions",
        "A template's versions, newest first",
        200,
        templates.VersionList,
    ),
    Operation(
        "post",
        "/v1/templates/{name}/versions",
        "Make a draft: from files (a JSON map, or an application/zip body with ?message=) or "
        "from a version (`from`); a new name makes a new template (marketing or admin keys)",
        201,
        templates.VersionOut,
        templates.DraftIn,
        errors=(400, 401, 403, 409, 413, 415, 422, 429),
        idempotent=True,
        ok_headers={"Location": "The version's URL", "ETag": "Send it as If-Match to save"},
    ),
    Operation(
        "get",
        "/v1/templates/{name}/versions/{number}",
        "A version: its state, author, message, parent and files (SHA-256, size)",
        200,
        templates.VersionOut,
        ok_headers={"ETag": "Send it as If-Match to save"},
    ),
    Operation(
        "patch",
        "/v1/templates/{name}/versions/{number}",
        "Save a draft's files (null deletes one); If-Match must carry its ETag: a stale one "
        "gets 412 naming the newer version (marketing or admin keys)",
        200,
        templates.VersionOut,
        templates.DraftChange,
        errors=(400, 401, 403, 404, 412, 413, 415, 422, 428, 429),
        ok_headers={"ETag": "The saved version's ETag"},
    ),
    Operation(
        "get",
        "/v1/templates/{name}/versions/{number}/files",
        "Every file of a version: text as text, images and audio as {base64}",
        200,
        templates.VersionFiles,
    ),
    Operation(
        "get",
        "/v1/templates/{name}/versions/{number}/problems",
        "Every validation problem of a version at its file and line; none: it renders",
        200,
        templates.ProblemsOut,
    ),
    Operation(
        "get",
        "/v1/templates/{name}/diff",
        "What changed between two versions, file by file (?from=A&to=B)",
        200,
        templates.DiffOut,
        errors=(401, 404, 422, 429),
        query=(
            {"name": "from", "in": "query", "required": True, "schema": {"type": "integer"}},
            {"name": "to", "in": "query", "required": True, "schema": {"type": "integer"}},
        ),
    ),
    Operation(
        "post",
        "/v1/templates/{name}/versions/{number}/publish",
        "Publish a version: a draft must validate and render every cell of the preview grid; "
        "publishing an older version is the rollback (marketing or admin keys)",
        200,
        templates.PublishOut,
        errors=(401, 403, 404, 409, 412, 422, 429),
        idempotent=True,
    ),
    Operation(
        "post",
        "/v1/templates/{name}/versions/{number}/archive",
        "Put a draft aside; the published version cannot be archived (marketing or admin keys)",
        200,
        templates.VersionOut,
        errors=(401, 403, 404, 409, 422, 429),
        idempotent=True,
    ),
    Operation(
        "post",
        "/v1/templates/{name}/versions/{number}/preview",
        "Preview a version over a shipped synthetic sample bill: a frame at t, the poster, "
        "one scene's grid (every ending x locale x format, with its marks), the microsite, "
        "or a full video (202: queued on the on-demand queue, stamped PREVIEW on every frame)",
        200,
        templates.PreviewOut,
        templates.PreviewIn,
        errors=(400, 401, 403, 404, 409, 415, 422, 429),
        idempotent=True,
    ),
    Operation(
        "get",
        "/v1/templates/{name}/previews/{render_id}",
        "A queued preview video's state; `video` once it is made",
        200,
        templates.PreviewVideoOut,
    ),
    Operation(
        "get",
        "/v1/templates/{name}/previews/{render_id}/video.mp4",
        "The stamped preview video",
        200,
        None,
        ok_type="video/mp4",
    ),
    Operation(
        "get",
        "/v1/journeys",
        "Every reminder journey of the account, with its newest version's definition",
        200,
        journeys.JourneyList,
    ),
    Operation(
        "post",
        "/v1/journeys/{name}/versions",
        "Save a journey's next version (version 1 of a new name): steps placed in days from "
        "the due date, each with its template, tone and outputs; quiet hours, contact limit. "
        "Bills already on the journey keep the version they were submitted with",
        201,
        journeys.JourneyVersionOut,
        JourneyDefinition,
        errors=(400, 401, 409, 413, 415, 422, 429),
        idempotent=True,
        ok_headers={"Location": "The version's URL"},
    ),
    Operation(
        "get",
        "/v1/journeys/{name}/versions",
        "A journey's versions, newest first",
        200,
        journeys.JourneyVersionList,
    ),
    Operation(
        "get",
        "/v1/journeys/{name}/versions/{number}",
        "One version of a journey",
        200,
        journeys.JourneyVersionOut,
    ),
    Operation(
        "get",
        "/v1/renders/{id}/journey",
        "The journey of the render's bill: each step's time, state and render, and every "
        "decision (started, sent, deferred, skipped, failed, cancelled, stopped) with its reason",
        200,
        journeys.BillJourneyOut,
    ),
    Operation(
        "post",
        "/v1/renders/{id}/journey/cancel",
        "Stop the bill's journey: scheduled steps are skipped, a step rendering now sends no "
        "webhook; cancelling again changes nothing and returns the same journey",
        200,
        journeys.BillJourneyOut,
    ),
    Operation(
        "get",
        "/v1/experiments",
        "The account's experiments, newest first",
        200,
        experiments.ExperimentList,
        errors=(401, 429),
    ),
    Operation(
        "post",
        "/v1/experiments",
        "Make an experiment (a draft) splitting a template's renders, or one journey step's, "
        "between versions of it and an optional hold-out that gets the plain microsite only",
        201,
        experiments.ExperimentOut,
        experiments.ExperimentIn,
        errors=(400, 401, 409, 413, 415, 422, 429),
        idempotent=True,
        ok_headers={"Location": "The experiment's URL"},
    ),
    Operation(
        "get",
        "/v1/experiments/{experiment_id}",
        "An experiment with its figures now: per arm conversion and interval, relative lift, "
        "chance to beat control, expected loss; the sample ratio mismatch check; days to pay",
        200,
        experiments.ExperimentWithReport,
    ),
    Operation(
        "post",
        "/v1/experiments/{experiment_id}/start",
        "Start a draft: renders of its template named by NAME go into their customer's arm",
        200,
        experiments.ExperimentOut,
        errors=(401, 404, 409, 429),
        idempotent=True,
    ),
    Operation(
        "post",
        "/v1/experiments/{experiment_id}/stop",
        "Stop it: renders accepted from now on are in no experiment; its figures stay",
        200,
        experiments.ExperimentOut,
        errors=(401, 404, 409, 429),
        idempotent=True,
    ),
    Operation(
        "post",
        "/v1/experiments/{experiment_id}/publish-winner",
        "Publish the winning arm's version as the template's own and stop the experiment "
        "(a key that may publish templates: admin)",
        200,
        experiments.WinnerPublished,
        errors=(401, 403, 404, 409, 429),
        idempotent=True,
    ),
    Operation(
        "get",
        "/v1/figures",
        "A credit manager's figures per group of bills: bills and amount due, paid by the due "
        "date and within 7/15/30 days of it, cure rate after each journey step, median and p90 "
        "days to pay (Kaplan-Meier), amount recovered, DSO and its change against the run's "
        "hold-out or previous run; CSV with Accept: text/csv or ?format=csv",
        200,
        figures.FiguresOut,
        errors=(401, 422, 429),
        query=(
            {
                "name": "by",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": list(DIMENSIONS), "default": "batch"},
                "description": "The dimension the bills are grouped by",
            },
            {
                "name": "batch",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "One billing run only; its previous run is the DSO baseline",
            },
            {
                "name": "cure_days",
                "in": "query",
                "required": False,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_CURE_DAYS,
                    "default": DEFAULT_CURE_DAYS,
                },
                "description": "A step cured a bill paid within this many days of it",
            },
            {
                "name": "format",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": ["json", "csv"]},
                "description": "Wins over Accept; csv: by, group, currency, figure, about, "
                "count, of, value",
            },
        ),
        text_ok_types=("text/csv",),
    ),
    Operation("get", "/healthz", "Liveness", 200, schemas.Health, errors=(), auth=False),
)


def build_document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [schemas.Problem, RenderRequest]
    requests = {op.request_model for op in OPERATIONS if op.request_model is not None}
    models += sorted(requests, key=lambda m: m.__name__)
    models += [op.ok_model for op in OPERATIONS if op.ok_model is not None]
    _, top = models_json_schema(
        [(m, "validation" if m in requests else "serialization") for m in dict.fromkeys(models)],
        ref_template=REF,
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "billreel",
            "version": "1",
            "description": "Personal explainer videos, microsites and tracked links for bills.",
        },
        "servers": [{"url": "/"}],
        "paths": _paths(),
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
    }


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        item: dict[str, Any] = {
            "summary": op.summary,
            "operationId": op.method + re.sub(r"[^a-z]+", "_", op.path),
            "responses": {str(op.ok_status): _ok(op)},
        }
        for status in op.errors:
            item["responses"][str(status)] = {
                "description": _ERROR_TEXT[status],
                "content": {PROBLEM: {"schema": {"$ref": REF.format(model="Problem")}}},
            }
        if op.auth:
            item["security"] = [{"apiKey": []}]
        params = []
        for name in re.findall(r"\{(\w+)\}", op.path):
            params.append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            )
        params.extend(op.query)
        if op.idempotent:
            params.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                    "description": "Retry safely: the same key and body replay the first response.",
                }
            )
        if params:
            item["parameters"] = params
        if op.request_model is not None:
            item["requestBody"] = {
                "required": True,
                "content": {
                    op.request_type: {
                        "schema": {"$ref": REF.format(model=op.request_model.__name__)}
                    }
                },
            }
        paths.setdefault(op.path, {})[op.method] = item
    return paths


def _ok(op: Operation) -> dict[str, Any]:
    response: dict[str, Any] = {"description": op.summary}
    if op.ok_model is not None:
        response["content"] = {
            op.ok_type: {"schema": {"$ref": REF.format(model=op.ok_model.__name__)}}
        }
        for text_type in op.text_ok_types:
            response["content"][text_type] = {"schema": {"type": "string"}}
    if op.ok_headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in op.ok_headers.items()
        }
    return response


_ERROR_TEXT = {
    400: "Malformed JSON or NDJSON",
    401: "No API key, or an unknown or revoked one",
    403: "A live key whose scope does not allow this (billing, marketing or admin)",
    404: "No such resource for this API key",
    409: "A request with the same Idempotency-Key is still in flight, or a revoked key rotated",
    412: "If-Match names an older state; the problem's `current` names the newer one",
    413: "Body too large",
    415: "Wrong content type",
    422: "Well-formed but invalid; every problem listed with its JSON Pointer",
    428: "If-Match is required",
    429: "Rate limited; see Retry-After",
}

_DOCUMENT: dict[str, Any] | None = None


@bp.get("/openapi.json")
def openapi_json() -> dict[str, Any]:
    global _DOCUMENT
    if _DOCUMENT is None:
        _DOCUMENT = build_document()
    return _DOCUMENT
