"""The figures' published shape (JSON, checked by these models) and the same as CSV rows.

The API and the dashboard both serve this one report.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from pydantic import BaseModel, Field

AMOUNT = "In minor units of `currency` (cents for EUR), as integers"


class Share(BaseModel):
    eligible: int = Field(description="Bills whose deadline is over, so the outcome is known")
    paid: int
    rate: float | None = Field(description="paid / eligible; null when none is eligible yet")


class PaidWithin(Share):
    days: int = Field(description="Days after the due date")


class CurvePoint(BaseModel):
    day: int = Field(description="Days since the bill was issued")
    unpaid: float = Field(description="Kaplan-Meier share of the bills still unpaid")


class DaysToPay(BaseModel):
    """From the issue date; unpaid bills are censored (they have not paid *yet*)."""

    median: float | None = Field(description="Days until half were paid; null: not yet")
    p90: float | None = Field(description="Days until 90 % were paid; null: not yet")
    curve: list[CurvePoint]


class DsoChange(BaseModel):
    against: Literal["holdout", "previous_run"]
    baseline: str | None = Field(description="The previous run's id; null for the hold-out")
    horizon_days: int = Field(description="Days each bill is counted for at most, on both sides")
    days: float = Field(description="This group's DSO at the horizon")
    baseline_days: float
    change: float = Field(description="days - baseline_days: below 0, paid sooner")


class Dso(BaseModel):
    days: float | None = Field(
        description="Days sales outstanding: sum(amount x days from issue to payment, or to "
        "now when unpaid) / sum(amount)"
    )
    change: DsoChange | None


class CureRate(BaseModel):
    eligible: int
    cured: int
    rate: float | None


class CureWithin(CureRate):
    days: int


class StepCure(BaseModel):
    """Of the bills overdue and unpaid when the step went out, those it cured."""

    step: str = Field(description="JOURNEY#POSITION")
    name: str | None
    overdue: int
    before_next: CureRate = Field(description="Paid before the next step's time")
    within: CureWithin = Field(description="Paid within `days` of the step going out")


class Group(BaseModel):
    group: str | None = Field(description="The dimension's value; null: none (no batch)")
    label: str | None = Field(description="A journey step's name")
    currency: str
    bills: int
    amount_due: int = Field(description=AMOUNT)
    paid: int
    paid_by_due: Share
    paid_within: list[PaidWithin]
    amount_recovered: int = Field(description="Of bills paid after their due date. " + AMOUNT)
    days_to_pay: DaysToPay
    dso: Dso
    cure: list[StepCure]


class FiguresOut(BaseModel):
    by: str = Field(description="The dimension: batch, segment, tone, template_version, step")
    batch: str | None
    as_of: str
    cure_days: int
    paid_within_days: list[int]
    groups: list[Group]


def checked(body: dict[str, Any]) -> dict[str, Any]:
    return FiguresOut.model_validate(body).model_dump(mode="json")


# `about`: the journey step of a cure rate, the previous run of a DSO change.
CSV_HEADER = ["by", "group", "currency", "figure", "about", "count", "of", "value"]


def _text(value: Any) -> Any:
    """A cell a spreadsheet shows as text, never runs as a formula (a segment is free text)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_rows(body: dict[str, Any]) -> list[list[Any]]:
    """One row per figure: its count, what it is out of, and its value."""
    rows: list[list[Any]] = [CSV_HEADER]
    for g in body["groups"]:
        lead = [body["by"], _text(g["group"]), g["currency"]]

        def add(
            figure: str, value: Any, count: Any = None, of: Any = None, about: str = ""
        ) -> None:
            rows.append([*lead, figure, _text(about), count, of, value])  # noqa: B023

        add("bills", g["bills"], g["bills"])
        add("amount_due", g["amount_due"])
        add("paid", g["paid"], g["paid"], g["bills"])
        share = g["paid_by_due"]
        add("paid_by_due", share["rate"], share["paid"], share["eligible"])
        for w in g["paid_within"]:
            add(f"paid_within_{w['days']}d", w["rate"], w["paid"], w["eligible"])
        add("amount_recovered", g["amount_recovered"])
        add("median_days_to_pay", g["days_to_pay"]["median"])
        add("p90_days_to_pay", g["days_to_pay"]["p90"])
        add("dso_days", g["dso"]["days"])
        change = g["dso"]["change"]
        if change is not None:
            add(
                f"dso_change_vs_{change['against']}",
                change["change"],
                about=change["baseline"] or "",
            )
        for c in g["cure"]:
            for name, part in (
                ("cure_before_next", c["before_next"]),
                (f"cure_within_{c['within']['days']}d", c["within"]),
            ):
                add(name, part["rate"], part["cured"], part["eligible"], c["step"])
    return rows


def csv_text(body: dict[str, Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        [["" if cell is None else cell for cell in row] for row in csv_rows(body)]
    )
    return out.getvalue()
