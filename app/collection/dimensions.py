"""What figures can be grouped by: one entry per dimension, a name and its SQL expression.

An expression reads the bill's own render (`Render`, the bill's first message) or, for the
journey step, the step that went out (`JourneyStep`, with its `Journey`): a bill that got
three steps is in three step groups. Adding a dimension is adding an entry here; the
experiment arm will be `"arm": Dimension(Render.experiment_arm, "the experiment arm")`
once the renders carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, or_
from sqlalchemy.orm import InstrumentedAttribute

from app.collection.sql import minor_units
from app.infra.database import Journey, JourneyStep, Render
from renderers.story import FIRM_AFTER_DAYS, FIRM_SEGMENTS


def bill_text(*path: str) -> ColumnElement[str]:
    """A text field of the bill document the render keeps (`bill.due_on`)."""
    text: ColumnElement[str] = Render.bill[path].as_string()
    return text


def bill_amount() -> ColumnElement[int]:
    return minor_units(bill_text("bill", "total"))


def bill_tone() -> ColumnElement[str]:
    """The tone the renderer gives the bill (`renderers.story.tone`), in SQL; the render's
    kept tone first, as analytics reads it."""
    status = bill_text("bill", "status")
    overdue_days = func.coalesce(Render.bill[("bill", "days_overdue")].as_integer(), 0)
    firm = or_(
        bill_text("customer", "segment").in_(sorted(FIRM_SEGMENTS)), overdue_days > FIRM_AFTER_DAYS
    )
    rules = case(
        (status == "paid", "thanks"),
        (bill_amount() < 0, "credit"),
        (and_(status == "overdue", firm), "firm"),
        (status == "overdue", "nudge"),
        (status == "open", "pay"),
        else_="unknown",
    )
    return func.coalesce(Render.tone, rules)


def step_key() -> ColumnElement[str]:
    """A journey step as `JOURNEY#POSITION`: the same step across the journey's versions."""
    return Journey.name.concat("#").concat(cast(JourneyStep.position, String))


@dataclass(frozen=True)
class Dimension:
    expression: ColumnElement[Any] | InstrumentedAttribute[Any]
    meaning: str
    steps: bool = False  # the expression reads the step that went out


DIMENSIONS: dict[str, Dimension] = {
    "batch": Dimension(Render.batch_id, "the billing run (null: a render sent on its own)"),
    "segment": Dimension(bill_text("customer", "segment"), "the bill's customer.segment"),
    "tone": Dimension(bill_tone(), "the tone of the bill's first message"),
    "template_version": Dimension(
        func.coalesce(Render.template_version, Render.template),
        "the template version of the bill's first message (NAME@N)",
    ),
    "step": Dimension(step_key(), "a journey step that went out: JOURNEY#POSITION", steps=True),
}
