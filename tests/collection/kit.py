"""A small book of bills with known payments, due dates and journey steps, written straight
into the tables the figures read, and the figures each test expects, worked out by hand.

Two billing runs of one account, as of 2026-12-31 12:00 UTC:

- run A (the previous one): two EUR bills issued 2026-10-01, due 2026-10-31, of 100.00
  each, paid 2026-10-11 and 2026-11-20 (10 and 50 days after issue).
- run B: issued 2026-11-01, due 2026-11-30, EUR:

  | bill | total | segment   | paid       | days to pay | steps that went out          |
  |------|-------|-----------|------------|-------------|------------------------------|
  | b1   | 100   | punctual  | 2026-11-20 | 19          |                              |
  | b2   |  50   | punctual  | 2026-12-05 | 34          | #1 11-27, #2 12-01           |
  | b3   |  80   | forgetful | 2026-12-12 | 41          | #1, #2, #3 12-07 (paid on #3's render) |
  | b4   |  20   | forgetful | never      | (60, censored) | #1, #2, #3, #4 12-15      |
  | b5   |  30   | chronic (overdue 40 days: firm) | 2026-12-20 | 49 |                |

  and b6, 10.00 USD, unpaid; and three that are no receivable: one in credit, one submitted
  paid, one cancelled with its batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from app.access.keys import make_key
from app.infra import clock
from app.infra.database import (
    Batch,
    BillJourney,
    Database,
    Journey,
    JourneyStep,
    JourneyVersion,
    Payment,
    Render,
    new_id,
)
from app.infra.settings import Settings
from app.wiring import create_app
from tests.factories import make_bill

AS_OF = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
JOURNEY_STEPS = ["friendly reminder", "nudge", "firm, with instalments", "last notice"]
OFFSETS = [-3, 1, 7, 15]


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@dataclass
class Book:
    account: str
    secret: str
    run_a: str
    run_b: str
    bills: dict[str, str]  # name -> the bill's render id


def _bill(issued: str, due: str, total: str, **overrides: Any) -> dict[str, Any]:
    return make_bill(
        **{"bill.issued_on": issued, "bill.due_on": due, "bill.total": total, **overrides},
        drop=["bill.lines"],
    )


def write_book(db: Database, name: str = "book") -> Book:
    key = make_key(db, name)
    account = key.info.account
    with db.session() as session:
        run_a, run_b = new_id("bat"), new_id("bat")
        session.add(Batch(id=run_a, api_key_id=account, created_at=at("2026-10-01")))
        session.add(Batch(id=run_b, api_key_id=account, created_at=at("2026-11-01")))
        session.flush()
        journey = Journey(id=new_id("jrn"), account=account, name="gentle", latest=1)
        version = JourneyVersion(
            id=new_id("jrv"),
            journey_id=journey.id,
            number=1,
            author="test",
            definition={
                "steps": [
                    {"name": n, "offset_days": o, "template": "bill-explainer"}
                    for n, o in zip(JOURNEY_STEPS, OFFSETS, strict=True)
                ]
            },
        )
        session.add_all([journey, version])
        bills: dict[str, str] = {}

        def render(label: str, run: str | None, bill: dict[str, Any], **kw: Any) -> str:
            render_id = kw.pop("id", None) or new_id("rnd")
            session.add(
                Render(
                    id=render_id,
                    api_key_id=account,
                    batch_id=run,
                    token=new_id("tok"),
                    template="bill-explainer",
                    template_version=kw.pop("version", "bill-explainer@1"),
                    outputs=["microsite"],
                    customer_id=f"C-{label}",
                    bill=bill,
                    status=kw.pop("status", "done"),
                    created_at=at("2026-11-01"),
                    **kw,
                )
            )
            session.flush()
            bills[label] = render_id
            return render_id

        def pay(render_id: str, day: str) -> None:
            session.add(Payment(id=new_id("pay"), render_id=render_id, paid_at=at(day, 11)))

        a = ("2026-10-01", "2026-10-31")
        pay(render("a1", run_a, _bill(*a, "100.00")), "2026-10-11")
        pay(render("a2", run_a, _bill(*a, "100.00")), "2026-11-20")
        b = ("2026-11-01", "2026-11-30")
        punctual, forgetful = {"customer.segment": "punctual"}, {"customer.segment": "forgetful"}
        pay(render("b1", run_b, _bill(*b, "100.00", **punctual)), "2026-11-20")
        pay(render("b2", run_b, _bill(*b, "50.00", **punctual)), "2026-12-05")
        render("b3", run_b, _bill(*b, "80.00", **forgetful), version="bill-explainer@2")
        render("b4", run_b, _bill(*b, "20.00", **forgetful), version="bill-explainer@2")
        chronic = {"customer.segment": "chronic", "bill.status": "overdue", "bill.days_overdue": 40}
        pay(render("b5", run_b, _bill(*b, "30.00", **chronic)), "2026-12-20")
        render("b6", run_b, _bill(*b, "10.00", **punctual, **{"bill.currency": "USD"}))
        render("credit", run_b, _bill(*b, "-10.00"))
        pay(render("paid", run_b, _bill(*b, "40.00", **{"bill.status": "paid"})), "2026-11-02")
        render("cancelled", run_b, _bill(*b, "60.00"), status="cancelled")

        sent = {"b2": 2, "b3": 3, "b4": 4}
        for label, went_out in sent.items():
            bill_journey = BillJourney(
                id=new_id("bjr"),
                account=account,
                customer_id=f"C-{label}",
                render_id=bills[label],
                journey_version_id=version.id,
                time_zone="UTC",
                due_on=datetime(2026, 11, 30).date(),
                status="active",
            )
            session.add(bill_journey)
            session.flush()
            for position, offset in enumerate(OFFSETS, start=1):
                due_at = at("2026-11-30") + timedelta(days=offset)
                went = position <= went_out
                step = JourneyStep(
                    id=new_id("stp"),
                    bill_journey_id=bill_journey.id,
                    position=position,
                    account=account,
                    customer_id=f"C-{label}",
                    template="bill-explainer",
                    tone="nudge",
                    outputs=["microsite"],
                    due_at=due_at,
                    window_ends_at=due_at + timedelta(days=3),
                    status="sent" if went else "skipped",
                    reason=None if went else "paid",
                    render_id=new_id("rnd"),
                    token=new_id("tok"),
                    started_at=due_at if went else None,
                    finished_at=due_at,
                )
                session.add(step)
                if went:  # the step's render: a copy of the bill, in no figure of its own
                    step_bill = session.get(Render, bills[label])
                    assert step_bill is not None
                    render(
                        f"{label}#{position}", None, step_bill.bill, id=step.render_id, tone="nudge"
                    )
        session.flush()
        # b3 was paid through the link of its third step's render.
        pay(bills["b3#3"], "2026-12-12")
    return Book(account, key.secret, run_a, run_b, bills)


def book_app(tmp_path: Path) -> Iterator[tuple[Flask, Book]]:
    """An app whose clock stands at `AS_OF` (moved through its clock file), with the book."""
    clock_file = tmp_path / "clock"
    clock.write_offset(clock_file, (AS_OF - datetime.now(UTC)).total_seconds())
    settings = Settings(
        data_dir=tmp_path / "var", public_url="https://bills.example.test", clock_file=clock_file
    )
    app = create_app(settings, start_queue=False, import_templates=False)
    try:
        yield app, write_book(app.extensions["billreel"].db)
    finally:
        app.extensions["billreel"].db.dispose()
        clock.configure(None)  # the next test reads the system's time again
