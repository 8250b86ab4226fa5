"""The billing run a simulation submits: one `bill/v1` render request per customer.

Customer data is synthetic and plain (an id, a name, a number); the bill is due a set number
of days after the run, in the customer's time zone, so its deadline is known to the run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from app.simulation.payers import Payer

TEMPLATE = "bill-explainer"
CALLBACK_URL = "https://billing.simulation.test/hooks"  # the journey's webhooks wait in the outbox


def render_request(
    payer: Payer,
    *,
    issued_on: date,
    due_on: date,
    time_zone: str,
    journey: str,
    outputs: Sequence[str],
    number: int,
) -> dict[str, Any]:
    return {
        "template": TEMPLATE,
        "outputs": list(outputs),
        "journey": journey,
        "callback_url": CALLBACK_URL,
        "external_id": payer.customer_id,
        "data": {
            "customer": {
                "id": payer.customer_id,
                "name": f"Customer {number}",
                "locale": "en-GB",
                "segment": "simulated",
                "time_zone": time_zone,
            },
            "bill": {
                "number": f"SIM-{number:07d}",
                "issued_on": issued_on.isoformat(),
                "due_on": due_on.isoformat(),
                "currency": "EUR",
                "total": payer.amount,
                "status": "open",
            },
            "payment": {"url": "https://pay.simulation.test/pay"},
        },
    }


def ndjson(lines: Sequence[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()
