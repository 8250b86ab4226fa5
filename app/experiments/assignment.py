"""Which arm a customer is in: a pure function of the experiment, the customer and the arms.

The customer's place in [0, 1) is SHA-256 of the experiment id and the customer id; the arms
cut [0, 1) into ranges in their order, each as wide as its share of the weights. Nothing is
stored and nothing is random at run time, so a customer gets the same arm on every bill and
every re-send, on any process. Hashing the experiment id too keeps a customer's arms in two
experiments independent (a customer early in one range is not early in every experiment).

Changing the weights or the order of arms while an experiment runs moves customers between
arms; start a new experiment id instead.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from app.experiments.arms import Arm, ExperimentInputError, check_arms, shares

_UNIT = float(1 << 64)  # the first 8 bytes of the digest as an integer, scaled to [0, 1)


def bucket(experiment_id: str, customer_id: str) -> float:
    """The customer's uniform place in [0, 1) for this experiment."""
    for field, value in (("experiment_id", experiment_id), ("customer_id", customer_id)):
        if not isinstance(value, str) or not value:
            raise ExperimentInputError(field, "must be a non-empty string")
    # The length prefix keeps ("a:b", "c") and ("a", "b:c") apart.
    key = f"{len(experiment_id)}:{experiment_id}:{customer_id}".encode()
    digest = hashlib.sha256(key).digest()
    return int.from_bytes(digest[:8], "big") / _UNIT


class Assignment:
    """The arms of one design with their ranges cut once: for assigning many customers."""

    def __init__(self, arms: Sequence[Arm]) -> None:
        check_arms(arms)
        self.names = [arm.name for arm in arms]
        self.uppers = list(accumulate(shares(arms)))

    def __call__(self, experiment_id: str, customer_id: str) -> str:
        # The shares' sum can round to just under 1: the last arm takes what is above.
        at = bisect_right(self.uppers, bucket(experiment_id, customer_id))
        return self.names[min(at, len(self.names) - 1)]


def assign(experiment_id: str, customer_id: str, arms: Sequence[Arm]) -> str:
    """The name of the arm this customer is in; the same answer for the same inputs, always."""
    return Assignment(arms)(experiment_id, customer_id)
