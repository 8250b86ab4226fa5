"""The tone dimension is the renderer's tone, written in SQL: the two must agree."""

from __future__ import annotations

from sqlalchemy import select

from app.collection.dimensions import bill_tone
from app.infra.database import ApiKey, Render, new_id
from app.infra.services import Services
from renderers.story import tone
from tests.factories import make_bill

BILLS = [
    {},
    {"bill.status": "overdue", "bill.days_overdue": 5},
    {"bill.status": "overdue", "bill.days_overdue": 31},
    {"bill.status": "overdue", "bill.days_overdue": 30},
    {"bill.status": "overdue"},
    {"bill.status": "overdue", "customer.segment": "chronic"},
    {"bill.status": "open", "customer.segment": "chronic"},
    {"bill.status": "paid"},
    {"bill.total": "-3.50"},
    {"bill.total": "0.00"},
]


def test_the_sql_tone_is_the_renderers(services: Services, api_key: str) -> None:
    with services.db.session() as session:
        account = session.scalars(select(ApiKey.id)).one()
        expected = {}
        for overrides in BILLS:
            bill = make_bill(**overrides, drop=["bill.lines"])
            render_id = new_id("rnd")
            session.add(
                Render(
                    id=render_id,
                    api_key_id=account,
                    token=new_id("tok"),
                    template="bill-explainer",
                    outputs=["microsite"],
                    customer_id="C",
                    bill=bill,
                )
            )
            expected[render_id] = tone(bill)
        session.flush()
        found = dict(session.execute(select(Render.id, bill_tone())).all())
    assert found == expected
    assert set(expected.values()) == {"pay", "nudge", "firm", "thanks", "credit"}
