"""A credit manager's figures, grouped by one dimension, from the grouped queries.

Each group is one value of the dimension in one currency (amounts of two currencies never
add up). DSO is the amount-weighted days the bills have been outstanding: each bill's
amount times its days from issue to payment (or to now, unpaid), over the amount. Its
change is taken against the run's hold-out bills when the run has some, else against the
previous run of the account, at a common horizon: every bill counted for at most as many
days as the youngest bill of either side has been out, so a run that has had longer to be
paid is not flattered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.collection.dimensions import DIMENSIONS
from app.collection.queries import (
    PAID_WITHIN_DAYS,
    BillCounts,
    Cure,
    Durations,
    Key,
    Scope,
    bill_counts,
    cures,
    durations,
)
from app.collection.survival import days_to_pay
from app.infra.database import Batch, Journey, JourneyVersion, utcnow

DEFAULT_CURE_DAYS = 7
MAX_CURE_DAYS = 120  # a journey's last step is at most 120 days after the due date
# The renders of hold-out bills, as a SQL condition on the bill's render: none until renders
# carry their experiment arm (see docs/collection.md); a caller may hand one in.
HOLDOUT_BILLS: ColumnElement[bool] | None = None


class FiguresInputError(ValueError):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _share(eligible: int, count: int) -> dict[str, Any]:
    return {"eligible": eligible, "paid": count, "rate": _rate(count, eligible)}


@dataclass
class _Part:
    """What adds up over runs and the hold-out flag for one group and currency."""

    counts: list[BillCounts] = field(default_factory=list)
    days: list[Durations] = field(default_factory=list)
    cures: list[Cure] = field(default_factory=list)


def _dso(days: Iterable[Durations], horizon: int | None = None) -> float | None:
    weighted = total = 0
    for row in days:
        held = row.days if horizon is None else min(row.days, horizon)
        weighted += row.amount * held
        total += row.amount
    return round(weighted / total, 2) if total else None


def _latest_issued(counts: Iterable[BillCounts]) -> int | None:
    days = [c.latest_issued_day for c in counts]
    return max(days) if days else None


def _dso_change(
    against: str,
    baseline: str | None,
    ours: _Part,
    theirs: _Part,
    today: int,
) -> dict[str, Any] | None:
    mine, other = _latest_issued(ours.counts), _latest_issued(theirs.counts)
    if mine is None or other is None:
        return None
    horizon = max(0, today - max(mine, other))
    days, base = _dso(ours.days, horizon), _dso(theirs.days, horizon)
    if days is None or base is None:
        return None
    return {
        "against": against,
        "baseline": baseline,
        "horizon_days": horizon,
        "days": days,
        "baseline_days": base,
        "change": round(days - base, 2),
    }


def _cure_body(rows: list[Cure], names: dict[str, str], cure_days: int) -> list[dict[str, Any]]:
    merged: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
    for c in rows:
        acc = merged[c.step]
        for i, v in enumerate(
            (c.overdue, c.next_passed, c.cured_before_next, c.within_passed, c.cured_within)
        ):
            acc[i] += v
    body = []
    for step in sorted(merged, key=_step_order):
        overdue, next_passed, cured_next, within_passed, cured_within = merged[step]
        body.append(
            {
                "step": step,
                "name": names.get(step),
                "overdue": overdue,
                "before_next": {
                    "eligible": next_passed,
                    "cured": cured_next,
                    "rate": _rate(cured_next, next_passed),
                },
                "within": {
                    "days": cure_days,
                    "eligible": within_passed,
                    "cured": cured_within,
                    "rate": _rate(cured_within, within_passed),
                },
            }
        )
    return body


def _step_order(key: str) -> tuple[str, int]:
    name, _, position = key.rpartition("#")
    return (name, int(position)) if position.isdigit() else (key, 0)


def _group_body(part: _Part, names: dict[str, str], cure_days: int) -> dict[str, Any]:
    c = part.counts
    within = {
        d: [sum(x.within[d][0] for x in c), sum(x.within[d][1] for x in c)]
        for d in PAID_WITHIN_DAYS
    }
    pay = days_to_pay((d.days, d.paid, d.bills) for d in part.days)
    return {
        "bills": sum(x.bills for x in c),
        "amount_due": sum(x.amount_due for x in c),
        "paid": sum(x.paid for x in c),
        "paid_by_due": _share(sum(x.due_passed for x in c), sum(x.paid_by_due for x in c)),
        "paid_within": [{"days": d, **_share(*within[d])} for d in PAID_WITHIN_DAYS],
        "amount_recovered": sum(x.recovered for x in c),
        "days_to_pay": {
            "median": pay.median,
            "p90": pay.p90,
            "curve": [{"day": day, "unpaid": unpaid} for day, unpaid in pay.curve],
        },
        "dso": {"days": _dso(part.days), "change": None},
        "cure": _cure_body(part.cures, names, cure_days),
    }


def _runs(session: Session, account: str) -> list[str]:
    """The account's billing runs, oldest first."""
    return list(
        session.scalars(
            select(Batch.id).where(Batch.api_key_id == account).order_by(Batch.created_at, Batch.id)
        )
    )


def _step_names(session: Session, account: str) -> dict[str, str]:
    """`JOURNEY#POSITION` -> the step's name in the journey's newest version that has it."""
    rows = session.execute(
        select(Journey.name, JourneyVersion.number, JourneyVersion.definition)
        .join(JourneyVersion, JourneyVersion.journey_id == Journey.id)
        .where(Journey.account == account)
        .order_by(Journey.name, JourneyVersion.number)
    )
    names: dict[str, str] = {}
    for journey, _number, definition in rows:
        for position, step in enumerate((definition or {}).get("steps", []), start=1):
            if isinstance(step, dict) and isinstance(step.get("name"), str):
                names[f"{journey}#{position}"] = step["name"]
    return names


def check_query(by: str, cure_days: int) -> None:
    if by not in DIMENSIONS:
        raise FiguresInputError("by", f"must be one of {', '.join(DIMENSIONS)}")
    if not 1 <= cure_days <= MAX_CURE_DAYS:
        raise FiguresInputError("cure_days", f"must be a whole number from 1 to {MAX_CURE_DAYS}")


def figures(
    session: Session,
    account: str,
    by: str = "batch",
    batch: str | None = None,
    as_of: datetime | None = None,
    cure_days: int = DEFAULT_CURE_DAYS,
    holdout: ColumnElement[bool] | None = HOLDOUT_BILLS,
) -> dict[str, Any]:
    """The figures of the account's bills (one run's with `batch`) by `by`, as JSON."""
    check_query(by, cure_days)
    as_of = as_of or utcnow()
    runs = _runs(session, account)
    previous = dict(zip(runs[1:], runs, strict=False))
    if batch is not None and batch not in previous and batch not in runs:
        raise FiguresInputError("batch", "is not a billing run of this account")
    selected: Sequence[str] | None = None
    if batch is not None:
        selected = [batch]
    elif by == "batch":
        selected = runs
    baseline_run = {b: previous.get(b) for b in (selected or [])}
    queried = None
    if selected is not None:
        queried = sorted({*selected, *(p for p in baseline_run.values() if p is not None)})
    scope = Scope(account, queried, as_of, holdout)
    dimension = DIMENSIONS[by]
    parts: dict[Key, _Part] = defaultdict(_Part)
    for row in bill_counts(session, scope, dimension):
        parts[row.key].counts.append(row)
    for d in durations(session, scope, dimension):
        parts[d.key].days.append(d)
    for c in cures(session, scope, dimension, cure_days):
        parts[c.key].cures.append(c)
    names = _step_names(session, account)
    groups = _groups(parts, selected, baseline_run, by, scope.as_of_day, names, cure_days)
    return {
        "by": by,
        "batch": batch,
        "as_of": as_of.isoformat(),
        "cure_days": cure_days,
        "paid_within_days": list(PAID_WITHIN_DAYS),
        "groups": groups,
    }


def _merge(parts: Iterable[_Part]) -> _Part:
    merged = _Part()
    for p in parts:
        merged.counts += p.counts
        merged.days += p.days
        merged.cures += p.cures
    return merged


def _groups(
    parts: dict[Key, _Part],
    selected: Sequence[str] | None,
    baseline_run: dict[str, str | None],
    by: str,
    today: int,
    names: dict[str, str],
    cure_days: int,
) -> list[dict[str, Any]]:
    chosen = {k: p for k, p in parts.items() if selected is None or k[0] in selected}
    by_group: dict[tuple[Any, str], dict[bool, list[_Part]]] = defaultdict(
        lambda: {False: [], True: []}
    )
    runs_of: dict[tuple[Any, str], set[str | None]] = defaultdict(set)
    for (run, group, currency, holdout), part in chosen.items():
        by_group[group, currency][holdout].append(part)
        runs_of[group, currency].add(run)
    out = []
    for (group, currency), sides in sorted(by_group.items(), key=lambda kv: _order(kv[0])):
        whole = _merge([*sides[False], *sides[True]])
        body = {
            "group": group,
            "label": names.get(group) if by == "step" else None,
            "currency": currency,
            **_group_body(whole, names, cure_days),
        }
        runs = runs_of[group, currency]
        if sides[True] and sides[False]:
            body["dso"]["change"] = _dso_change(
                "holdout", None, _merge(sides[False]), _merge(sides[True]), today
            )
        elif len(runs) == 1 and (run := next(iter(runs))) is not None:
            prior = baseline_run.get(run)
            if prior is not None:
                prior_group = prior if by == "batch" else group
                theirs = _merge(
                    p
                    for (r, g, c, _h), p in parts.items()
                    if r == prior and g == prior_group and c == currency
                )
                body["dso"]["change"] = _dso_change("previous_run", prior, whole, theirs, today)
        out.append(body)
    return out


def _order(key: tuple[Any, str]) -> tuple[int, str, str]:
    group, currency = key
    return (group is None, "" if group is None else str(group), currency)
