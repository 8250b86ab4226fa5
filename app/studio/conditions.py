"""When a scene shows, as choices from lists, compiled to the spec's sandboxed expression.

The builder knows one shape: an `and` of tests on the bill's facts, each optional —
`tone in [...]`, `status in [...]`, `segment in [...]`, `days_overdue >= N`,
`days_overdue <= N` (and `==`, `>`, `<` read as the same). `parse` reads any expression
(Jinja's own parser, the one the renderer compiles with) back into those choices; one it
cannot represent stays `custom`, its text kept as written, to be edited in the code view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.parser import Parser

from app.studio.errors import EditRefused
from renderers.story import TONES
from renderers.video.expressions import ENV

STATUSES = ("open", "overdue", "paid")  # bill/v1 `bill.status`
LISTS = {"tone": TONES, "status": STATUSES}
LIST_FIELDS = ("tone", "status", "segment")
SEGMENT = re.compile(r"^[A-Za-z0-9_.-][A-Za-z0-9_. -]{0,63}$")  # a label quoted as is
MAX_DAYS = 100_000


@dataclass(frozen=True)
class Condition:
    """Empty lists and no bounds: always. `custom`: an expression the builder cannot show."""

    tone: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    segment: tuple[str, ...] = ()
    days_min: int | None = None
    days_max: int | None = None
    custom: str | None = field(default=None)

    @property
    def always(self) -> bool:
        return self.custom is None and self == Condition()

    def to_json(self) -> dict[str, Any]:
        if self.custom is not None:
            return {"kind": "custom", "expression": self.custom}
        if self.always:
            return {"kind": "always"}
        return {
            "kind": "rules",
            "tone": list(self.tone),
            "status": list(self.status),
            "segment": list(self.segment),
            "days_overdue": {"min": self.days_min, "max": self.days_max},
        }


def _strings(node: nodes.Expr) -> tuple[str, ...] | None:
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, nodes.List | nodes.Tuple):
        items = [i.value for i in node.items if isinstance(i, nodes.Const)]
        if len(items) == len(node.items) and all(isinstance(v, str) for v in items):
            return tuple(items)
    return None


def _allowed(name: str, values: tuple[str, ...]) -> bool:
    if not values or len(set(values)) != len(values):
        return False
    if name in LISTS:
        return all(v in LISTS[name] for v in values)
    return all(SEGMENT.match(v) for v in values)


def _conjuncts(node: nodes.Expr) -> list[nodes.Expr]:
    if isinstance(node, nodes.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


_BOUNDS = {"gteq": (0, "min"), "gt": (1, "min"), "lteq": (0, "max"), "lt": (-1, "max")}


def _read(expression: str) -> dict[str, Any] | None:
    """The choices of `expression`, or None when it is not of the builder's shape."""
    try:
        parser = Parser(ENV, expression, state="variable")
        tree = parser.parse_expression()
        if parser.stream.current.type != "eof":
            return None
    except TemplateSyntaxError:
        return None
    if isinstance(tree, nodes.Const) and tree.value is True:
        return {}
    found: dict[str, Any] = {}
    for test in _conjuncts(tree):
        if not (isinstance(test, nodes.Compare) and len(test.ops) == 1):
            return None
        subject, op = test.expr, test.ops[0]
        if not isinstance(subject, nodes.Name):
            return None
        name = subject.name
        if name in LIST_FIELDS and op.op in ("in", "eq") and name not in found:
            values = _strings(op.expr)
            if values is None or (op.op == "eq") != isinstance(op.expr, nodes.Const):
                return None
            if not _allowed(name, values):
                return None
            found[name] = values
        elif name == "days_overdue" and isinstance(op.expr, nodes.Const):
            value = op.expr.value
            if not isinstance(value, int) or isinstance(value, bool):
                return None
            bounds = [_BOUNDS[op.op]] if op.op in _BOUNDS else []
            if op.op == "eq":
                bounds = [(0, "min"), (0, "max")]
            if not bounds:
                return None
            for shift, side in bounds:
                if f"days_{side}" in found:
                    return None
                found[f"days_{side}"] = value + shift
        else:
            return None
    return found


def parse(expression: str) -> Condition:
    """The choices of a `when:` expression; `custom` when the builder cannot show it."""
    found = _read(expression.strip())
    if found is None:
        return Condition(custom=expression)
    return Condition(**found)


def _quoted(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def compile_condition(condition: Condition) -> str:
    """The sandboxed expression of `condition` ("true" when it always holds)."""
    if condition.custom is not None:
        return condition.custom
    tests = [f"{name} in {_quoted(getattr(condition, name))}"
             for name in LIST_FIELDS if getattr(condition, name)]  # fmt: skip
    if condition.days_min is not None and condition.days_min == condition.days_max:
        tests.append(f"days_overdue == {condition.days_min}")
    else:
        if condition.days_min is not None:
            tests.append(f"days_overdue >= {condition.days_min}")
        if condition.days_max is not None:
            tests.append(f"days_overdue <= {condition.days_max}")
    return " and ".join(tests) or "true"


def _days(value: Any, where: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise EditRefused(where, f"a whole number of days from 0 to {MAX_DAYS}, or empty")
    return value


def from_json(data: Any, where: str) -> Condition:
    """A condition as the form sends it; EditRefused naming the field for anything else."""
    if not isinstance(data, dict) or data.get("kind") not in ("always", "rules", "custom"):
        raise EditRefused(f"{where}.kind", "one of always, rules, custom")
    if data["kind"] == "always":
        return Condition()
    if data["kind"] == "custom":
        expression = data.get("expression")
        if not isinstance(expression, str) or not expression.strip():
            raise EditRefused(f"{where}.expression", "an expression (edit it in the code view)")
        return parse(expression)
    lists: dict[str, tuple[str, ...]] = {}
    for name in LIST_FIELDS:
        values = data.get(name) or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise EditRefused(f"{where}.{name}", "a list of names")
        if values and not _allowed(name, tuple(values)):
            choices = ", ".join(LISTS[name]) if name in LISTS else "labels of letters and digits"
            raise EditRefused(f"{where}.{name}", f"pick from: {choices} (each once)")
        lists[name] = tuple(values)
    days = data.get("days_overdue") or {}
    if not isinstance(days, dict):
        raise EditRefused(f"{where}.days_overdue", "an object with min and max")
    low = _days(days.get("min"), f"{where}.days_overdue.min")
    high = _days(days.get("max"), f"{where}.days_overdue.max")
    if low is not None and high is not None and low > high:
        raise EditRefused(f"{where}.days_overdue", "min is more than max")
    return Condition(lists["tone"], lists["status"], lists["segment"], low, high)
