"""What the API writes to the audit trail: every change a key makes, after its answer.

A change is a successful (2xx) answer to one of `ACTIONS`; an idempotent replay changes
nothing and is not written again. The target is the id in the path, or the id of what the
answer made (its `Location`, else its body's `id`); an erased customer's id only as a keyed
hash (`app.audit.trail`).
"""

from __future__ import annotations

import json

from flask import Response, g, request

from app.api import idempotency
from app.api.context import account_id, caller_key_id, services
from app.audit.trail import customer_target, record

ACTIONS = {
    "v1.renders.create_render": "render.create",
    "v1.batches.create_batch": "batch.create",
    "v1.batches.cancel_batch": "batch.cancel",
    "v1.payments.create_payment": "payment.create",
    "v1.customers.delete_customer": "customer.erase",
    "v1.admin.create": "key.create",
    "v1.admin.rotate": "key.rotate",
    "v1.admin.revoke": "key.revoke",
    "v1.admin.end": "session.end",
    "v1.templates.version_create": "template.draft",
    "v1.templates.version_save": "template.save",
    "v1.templates.version_publish": "template.publish",
    "v1.templates.version_archive": "template.archive",
    "v1.journeys.version_create": "journey.save",
    "v1.journeys.cancel": "journey.cancel",
    "v1.experiments.experiment_create": "experiment.create",
    "v1.experiments.experiment_start": "experiment.start",
    "v1.experiments.experiment_stop": "experiment.stop",
    "v1.experiments.publish_winner": "experiment.publish_winner",
}


def record_change(response: Response) -> Response:
    action = ACTIONS.get(request.endpoint or "")
    if action is None or not 200 <= response.status_code < 300:
        return response
    if action == "payment.create" and response.status_code != 201:
        return response  # a known reference: the payment already recorded, nothing new
    if response.headers.get(idempotency.REPLAYED_HEADER) == "true":
        return response
    svc = services()
    record(
        svc.db,
        actor_type="key",
        actor_id=caller_key_id(),
        account=account_id(),
        action=action,
        target=_target(response, svc.secret),
        request_id=g.get("request_id"),
        status=response.status_code,
    )
    return response


def _target(response: Response, secret: bytes) -> str | None:
    args = request.view_args or {}
    if "name" in args:  # a template version: NAME@N (a new draft's number is in Location)
        number = args.get("number") or response.headers.get("Location", "").rsplit("/", 1)[-1]
        return f"{args['name']}@{number}"[:80]
    if "customer_id" in args:
        return customer_target(secret, str(args["customer_id"]))
    for name in ("render_id", "batch_id", "key_id", "session_id"):
        if name in args and request.endpoint != "v1.payments.create_payment":
            return str(args[name])
    location = response.headers.get("Location")
    if location:  # what the answer made: no need to read its body (a batch's may be long)
        return location.rstrip("/").rsplit("/", 1)[-1][:80]
    if response.mimetype == "application/json" and not response.is_streamed:
        try:
            made = json.loads(response.get_data())
        except ValueError:
            return None
        made_id = made.get("id") if isinstance(made, dict) else None
        if isinstance(made_id, str):
            return made_id[:80]
    return None
