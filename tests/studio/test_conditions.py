"""`when:` as choices from lists: compiled to the spec's expression and read back, exactly;
what the builder cannot show is kept as written."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.studio.conditions import (
    STATUSES,
    Condition,
    compile_condition,
    from_json,
    parse,
)
from app.studio.errors import EditRefused
from renderers.story import TONES
from renderers.video.expressions import evaluate

subsets = lambda values: st.lists(st.sampled_from(values), unique=True).map(tuple)  # noqa: E731
days = st.one_of(st.none(), st.integers(0, 400))
conditions = st.builds(
    Condition,
    tone=subsets(TONES),
    status=subsets(STATUSES),
    segment=subsets(["chronic", "forgetful", "vip"]),
    days_min=days,
    days_max=days,
)


@given(conditions)
def test_a_condition_survives_compiling_and_parsing(condition: Condition) -> None:
    assert parse(compile_condition(condition)) == condition


@given(conditions, st.sampled_from(TONES), st.sampled_from(STATUSES), st.integers(0, 400))
def test_the_expression_means_what_the_choices_say(
    condition: Condition, tone: str, status: str, overdue: int
) -> None:
    bill = {"tone": tone, "status": status, "segment": "chronic", "days_overdue": overdue}
    expected = (
        (not condition.tone or tone in condition.tone)
        and (not condition.status or status in condition.status)
        and (not condition.segment or "chronic" in condition.segment)
        and (condition.days_min is None or overdue >= condition.days_min)
        and (condition.days_max is None or overdue <= condition.days_max)
    )
    assert bool(evaluate(compile_condition(condition), bill)) is expected


@pytest.mark.parametrize(
    ("expression", "shown"),
    [
        ("true", {"kind": "always"}),
        ('tone == "pay"', {"kind": "rules", "tone": ["pay"]}),
        ("status in ('overdue',) and days_overdue > 30", {"kind": "rules", "status": ["overdue"],
                                                           "days_overdue": {"min": 31}}),
        ("days_overdue < 8", {"kind": "rules", "days_overdue": {"max": 7}}),
    ],
)  # fmt: skip
def test_hand_written_expressions_of_the_same_shape_are_read(
    expression: str, shown: dict[str, Any]
) -> None:
    form = parse(expression).to_json()
    for key, value in shown.items():
        if isinstance(value, dict):
            assert {k: form[key][k] for k in value} == value
        else:
            assert form[key] == value


@pytest.mark.parametrize(
    "expression",
    [
        "lines | length > 0",
        "consumption is not none and consumption.months >= 12",
        "tone in ['pay', 'pay']",
        "tone in ['bogus']",
        "days_overdue >= 3 and days_overdue >= 4",
        "tone in ['pay'] or status in ['paid']",
        "tone in [",
    ],
)
def test_anything_else_is_custom_and_kept_as_written(expression: str) -> None:
    condition = parse(expression)
    assert condition.to_json() == {"kind": "custom", "expression": expression}
    assert compile_condition(condition) == expression


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "maybe"}, "when.kind"),
        ({"kind": "rules", "tone": ["pay", "late"]}, "when.tone"),
        ({"kind": "rules", "segment": ["a'; import os"]}, "when.segment"),
        ({"kind": "rules", "days_overdue": {"min": -1}}, "when.days_overdue.min"),
        ({"kind": "rules", "days_overdue": {"min": 9, "max": 3}}, "when.days_overdue"),
        ({"kind": "custom", "expression": " "}, "when.expression"),
    ],
)
def test_a_bad_form_names_its_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(EditRefused) as caught:
        from_json(data, "when")
    assert caught.value.field == field
