"""An experiment's arms: names, traffic weights, which one is control, the optional hold-out.

Every function of the package that takes arms checks them here first, so a bad design is
refused with the field named before anything is assigned or computed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.infra.errors import BillreelError

MAX_ARMS = 20  # more arms than this is a design error, not an experiment


class ExperimentInputError(BillreelError, ValueError):
    """An experiment's design or records are unusable; `field` names what is wrong."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


@dataclass(frozen=True)
class Arm:
    """One arm: a published template version (its name here), or the hold-out.

    `weight` is its share of traffic relative to the others' (any positive numbers);
    the hold-out arm gets the plain microsite only, and is judged against control like any arm.
    """

    name: str
    weight: float = 1.0
    holdout: bool = False


def check_arms(arms: Sequence[Arm], field: str = "arms") -> None:
    """Refuse arms that cannot make an experiment, naming the field (`arms/1/weight`)."""
    if not isinstance(arms, Sequence) or isinstance(arms, str | bytes):
        raise ExperimentInputError(field, "must be a list of arms")
    if len(arms) < 2:
        raise ExperimentInputError(field, "an experiment needs at least two arms")
    if len(arms) > MAX_ARMS:
        raise ExperimentInputError(field, f"at most {MAX_ARMS} arms")
    seen: set[str] = set()
    for i, arm in enumerate(arms):
        if not isinstance(arm, Arm):
            raise ExperimentInputError(f"{field}/{i}", "must be an Arm")
        if not isinstance(arm.name, str) or not arm.name.strip():
            raise ExperimentInputError(f"{field}/{i}/name", "must be a non-empty string")
        if arm.name in seen:
            raise ExperimentInputError(f"{field}/{i}/name", f"{arm.name!r} is named twice")
        seen.add(arm.name)
        weight = arm.weight
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ExperimentInputError(f"{field}/{i}/weight", "must be a number")
        if not math.isfinite(weight) or weight <= 0:
            raise ExperimentInputError(f"{field}/{i}/weight", "must be a positive finite number")
    if sum(arm.holdout for arm in arms) > 1:
        raise ExperimentInputError(field, "at most one hold-out arm")


def control_arm(arms: Sequence[Arm], control: str | None = None) -> Arm:
    """The arm every other is judged against: `control` by name, else the first non-hold-out."""
    check_arms(arms)
    if control is None:
        return next(arm for arm in arms if not arm.holdout)
    for arm in arms:
        if arm.name == control:
            if arm.holdout:
                raise ExperimentInputError("control", "the hold-out arm cannot be control")
            return arm
    raise ExperimentInputError("control", f"{control!r} is not one of the arms")


def shares(arms: Sequence[Arm]) -> list[float]:
    """Each arm's expected share of customers (the weights normalised to sum to 1)."""
    check_arms(arms)
    total = math.fsum(arm.weight for arm in arms)
    return [arm.weight / total for arm in arms]
