"""`/dashboard/journeys`: the account's reminder journeys, and each bill's steps and decisions.

Read-only and server-rendered like the funnels (`app.dashboard.views`): no script. Journeys
are edited through the API (`/v1/journeys`).
"""

from __future__ import annotations

import hmac

from flask import Blueprint
from werkzeug.wrappers import Response

from app.dashboard.views import _error, _go, _page, _services, logged_in_key
from app.infra.database import BillJourney
from app.journeys.history import bill_journey, recent
from app.journeys.store import list_journeys

bp = Blueprint("dashboard_journeys", __name__, template_folder="templates")

STATUS_LABELS = {
    "scheduled": "Scheduled",
    "rendering": "Rendering",
    "sent": "Sent",
    "skipped": "Skipped",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
REASON_LABELS = {
    "paid": "the bill was paid",
    "instalment_plan": "the customer asked for an instalment plan",
    "promise_to_pay": "the customer promised to pay",
    "cancelled": "the billing system cancelled it",
    "nothing_due": "nothing is due (in credit)",
    "late": "too late: its window had closed",
    "contact_limit": "the customer's contact limit",
    "quiet_hours": "the customer's quiet hours",
    "template_missing": "its template is gone",
}


@bp.get("/dashboard/journeys")
def journeys() -> Response:
    account = logged_in_key()
    if account is None:
        return _go("/dashboard")
    services = _services()
    with services.db.session() as session:
        bills = recent(session, account)
    return _page(
        "dashboard/journeys.html", journeys=list_journeys(services.db, account), bills=bills,
        reasons=REASON_LABELS,
    )  # fmt: skip


@bp.get("/dashboard/journeys/bills/<bill_journey_id>")
def bill(bill_journey_id: str) -> Response:
    account = logged_in_key()
    if account is None:
        return _go("/dashboard")
    with _services().db.session() as session:
        row = session.get(BillJourney, bill_journey_id)
        if row is None or not hmac.compare_digest(row.account, account):
            return _error(404, "There is no such bill on a journey for this API key.")
        record = bill_journey(session, row.id)
    return _page(
        "dashboard/bill_journey.html", record=record, statuses=STATUS_LABELS,
        reasons=REASON_LABELS,
    )  # fmt: skip
