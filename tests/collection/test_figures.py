"""The figures of the kit's book of bills (tests/collection/kit.py), against the hand count."""

from __future__ import annotations

from typing import Any

import pytest

from app.collection.dimensions import bill_text
from app.collection.figures import FiguresInputError, figures
from app.infra.database import Database
from app.infra.services import Services
from tests.collection.kit import AS_OF, Book, write_book


@pytest.fixture
def book(services: Services) -> Book:
    return write_book(services.db)


def run(db: Database, book: Book, **kwargs: Any) -> dict[str, Any]:
    with db.session() as session:
        return figures(session, book.account, as_of=AS_OF, **kwargs)


def group(body: dict[str, Any], name: Any, currency: str = "EUR") -> dict[str, Any]:
    found = [g for g in body["groups"] if g["group"] == name and g["currency"] == currency]
    assert len(found) == 1, [(g["group"], g["currency"]) for g in body["groups"]]
    return found[0]


def check_run_b(b: dict[str, Any]) -> None:
    """Run B's EUR bills, b1 to b5 (the credit, paid and cancelled ones are no receivables)."""
    assert b["bills"] == 5 and b["amount_due"] == 28000 and b["paid"] == 4
    assert b["paid_by_due"] == {"eligible": 5, "paid": 1, "rate": 0.2}
    assert [(w["days"], w["paid"], w["rate"]) for w in b["paid_within"]] == [
        (7, 2, 0.4),
        (15, 3, 0.6),
        (30, 4, 0.8),
    ]
    assert b["amount_recovered"] == 5000 + 8000 + 3000  # b2, b3, b5: paid after the due date
    # Kaplan-Meier: 19 -> 0.8, 34 -> 0.6, 41 -> 0.4 unpaid; b4 unpaid after 60 days.
    assert b["days_to_pay"]["median"] == 41.0 and b["days_to_pay"]["p90"] is None
    curve = {p["day"]: p["unpaid"] for p in b["days_to_pay"]["curve"]}
    assert (curve[18], curve[19], curve[41], curve[49], curve[60]) == (1.0, 0.8, 0.4, 0.2, 0.2)
    # sum(amount x days outstanding) / amount
    assert b["dso"]["days"] == round(
        (10000 * 19 + 5000 * 34 + 8000 * 41 + 2000 * 60 + 3000 * 49) / 28000, 2
    )


def test_a_runs_figures_match_the_hand_count_and_its_dso_change_against_the_previous(
    services: Services, book: Book
) -> None:
    body = run(services.db, book, by="batch")
    assert [(g["group"], g["currency"]) for g in body["groups"]] == sorted(
        [(book.run_a, "EUR"), (book.run_b, "EUR"), (book.run_b, "USD")]
    )
    b = group(body, book.run_b)
    check_run_b(b)
    # Both at the horizon of run B's youngest bill, 60 days: run A's DSO is (10 + 50) / 2.
    assert b["dso"]["change"] == {
        "against": "previous_run",
        "baseline": book.run_a,
        "horizon_days": 60,
        "days": 34.11,
        "baseline_days": 30.0,
        "change": 4.11,
    }
    assert group(body, book.run_a)["dso"]["change"] is None  # the first run has none before it
    usd = group(body, book.run_b, "USD")
    assert usd["bills"] == 1 and usd["amount_due"] == 1000 and usd["paid"] == 0
    assert usd["days_to_pay"]["median"] is None  # nobody paid: not "0 days"
    # One run asked for: the same figures, and its previous run is still the baseline.
    one = run(services.db, book, by="batch", batch=book.run_b)
    assert [g["group"] for g in one["groups"]] == [book.run_b, book.run_b]
    assert group(one, book.run_b) == b


def test_cure_rate_after_each_step_counts_the_bills_it_found_overdue(
    services: Services, book: Book
) -> None:
    b = group(run(services.db, book, by="batch", batch=book.run_b), book.run_b)
    cure = {c["step"]: c for c in b["cure"]}
    assert set(cure) == {"gentle#2", "gentle#3", "gentle#4"}  # #1 went out before the due date
    nudge = cure["gentle#2"]  # b2, b3, b4 unpaid on 12-01; b2 paid 12-05, before #3 (12-07)
    assert nudge["name"] == "nudge" and nudge["overdue"] == 3
    assert nudge["before_next"] == {"eligible": 3, "cured": 1, "rate": 0.3333}
    assert nudge["within"] == {"days": 7, "eligible": 3, "cured": 1, "rate": 0.3333}
    firm = cure["gentle#3"]  # b3 (paid 12-12, before #4 on 12-15) and b4
    assert (firm["overdue"], firm["before_next"]["cured"], firm["within"]["cured"]) == (2, 1, 1)
    last = cure["gentle#4"]  # b4 only; no step after it
    assert last["before_next"] == {"eligible": 0, "cured": 0, "rate": None}
    assert last["within"]["eligible"] == 1 and last["within"]["rate"] == 0.0
    # Over 15 days, #2's window takes in b3's payment on 12-12 too.
    wide = group(run(services.db, book, by="batch", batch=book.run_b, cure_days=15), book.run_b)
    assert next(c for c in wide["cure"] if c["step"] == "gentle#2")["within"]["cured"] == 2


def test_by_segment_tone_version_and_step(services: Services, book: Book) -> None:
    by_segment = run(services.db, book, by="segment", batch=book.run_b)
    forgetful = group(by_segment, "forgetful")
    assert (forgetful["bills"], forgetful["amount_due"], forgetful["amount_recovered"]) == (
        2,
        10000,
        8000,
    )
    # Against the same segment of run A: it had none, so no change.
    assert forgetful["dso"]["change"] is None
    tones = run(services.db, book, by="tone", batch=book.run_b)
    assert group(tones, "firm")["bills"] == 1 and group(tones, "pay")["bills"] == 4
    versions = run(services.db, book, by="template_version", batch=book.run_b)
    assert group(versions, "bill-explainer@2")["bills"] == 2
    steps = run(services.db, book, by="step", batch=book.run_b)
    assert [g["group"] for g in steps["groups"]] == ["gentle#1", "gentle#2", "gentle#3", "gentle#4"]
    second = group(steps, "gentle#2")
    assert second["label"] == "nudge" and second["bills"] == 3 and second["amount_due"] == 15000
    assert [c["step"] for c in second["cure"]] == ["gentle#2"]
    assert second["cure"][0]["before_next"]["cured"] == 1


def test_censored_days_to_pay_are_not_the_mean_over_the_payers(
    services: Services, book: Book
) -> None:
    forgetful = group(run(services.db, book, by="segment", batch=book.run_b), "forgetful")
    # b3 paid after 41 days, b4 not after 60: over the payers only "half paid by 41 days"
    # would be 100 %; with b4 censored half are paid by 41 and the rest not yet.
    assert forgetful["days_to_pay"]["median"] == 41.0
    assert forgetful["days_to_pay"]["p90"] is None
    curve = {p["day"]: p["unpaid"] for p in forgetful["days_to_pay"]["curve"]}
    assert curve[60] == 0.5


def test_dso_change_against_the_hold_out(services: Services, book: Book) -> None:
    holdout = bill_text("customer", "segment") == "forgetful"
    with services.db.session() as session:
        body = figures(
            session, book.account, by="batch", batch=book.run_b, as_of=AS_OF, holdout=holdout
        )
    b = group(body, book.run_b)
    check_run_b(b)  # the hold-out's bills are the run's too
    treated = round((10000 * 19 + 5000 * 34 + 3000 * 49) / 18000, 2)
    held_out = round((8000 * 41 + 2000 * 60) / 10000, 2)
    assert b["dso"]["change"] == {
        "against": "holdout",
        "baseline": None,
        "horizon_days": 60,
        "days": treated,
        "baseline_days": held_out,
        "change": round(treated - held_out, 2),
    }


def test_bad_queries_name_their_parameter(services: Services, book: Book) -> None:
    with pytest.raises(FiguresInputError) as by:
        run(services.db, book, by="colour")
    assert by.value.field == "by"
    with pytest.raises(FiguresInputError) as batch:
        run(services.db, book, batch="bat_unknown")
    assert batch.value.field == "batch"
    with pytest.raises(FiguresInputError) as days:
        run(services.db, book, cure_days=0)
    assert days.value.field == "cure_days"


def test_another_accounts_bills_are_not_counted(services: Services, book: Book) -> None:
    other = write_book(services.db, "other")
    with services.db.session() as session:
        body = figures(session, other.account, by="batch", as_of=AS_OF)
    assert {g["group"] for g in body["groups"]} == {other.run_a, other.run_b}
    assert group(body, other.run_b)["bills"] == 5
