"""The funnel of a billing run computed from its events: steps, rates, tone, time to pay.

Flagged events (HEAD, bots, bursts) are never counted; `delivered` is every finished render.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.infra.database import Event, Render, as_utc
from renderers.story import tone as bill_tone

FUNNEL_STEPS = ("delivered", "opened", "video_started", "video_completed", "pay_click", "paid")
PROGRESS_MARKS = ("25", "50", "75", "100")
TONES = ("nudge", "firm", "thanks", "credit", "pay")
# Time from delivery (the render finished) to payment, as (label, upper bound in seconds).
TIME_TO_PAY_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("under_1h", 3600),
    ("1h_to_1d", 86400),
    ("1d_to_3d", 3 * 86400),
    ("3d_to_7d", 7 * 86400),
    ("7d_to_14d", 14 * 86400),
    ("14d_to_30d", 30 * 86400),
    ("30d_or_more", None),
)


def funnel(session: Session, batch_id: str) -> dict[str, int]:
    """Distinct renders that reached each step of the funnel, flagged (bot) events excluded."""
    return batch_analytics(session, batch_id)["funnel"]  # type: ignore[no-any-return]


def tone_of(bill: dict[str, Any] | None) -> str | None:
    """The tone the renderer gives this bill, or None for a purged or unreadable one."""
    if not bill:
        return None
    try:
        return bill_tone(bill)
    except Exception:  # a bill the renderer would refuse has no tone to report
        return None


def render_tone(render: Render) -> str | None:
    """The bill's tone, kept on the render (by retention) so it outlives the purged bill."""
    if render.tone is None:
        render.tone = tone_of(render.bill)
    return render.tone


@dataclass
class _Group:
    steps: Counter[str] = field(default_factory=Counter)

    def body(self) -> dict[str, Any]:
        counts = {step: self.steps[step] for step in FUNNEL_STEPS}
        return {"funnel": counts, "rates": rates(counts)}


def rates(counts: dict[str, int]) -> dict[str, float]:
    """Each step over `delivered`, to four places; 0 when nothing was delivered."""
    delivered = counts["delivered"]
    return {
        step: round(counts[step] / delivered, 4) if delivered else 0.0 for step in FUNNEL_STEPS[1:]
    }


@dataclass
class _Reached:
    """What one render's unflagged events reached: steps with their first time, marks, CTAs."""

    steps: dict[str, datetime] = field(default_factory=dict)
    marks: set[str] = field(default_factory=set)
    ctas: set[str] = field(default_factory=set)


def _reached(session: Session, batch_id: str) -> dict[str, _Reached]:
    rows = session.execute(
        select(Event.render_id, Event.type, Event.name, func.min(Event.at))
        .join(Render, Render.id == Event.render_id)
        .where(Render.batch_id == batch_id, Render.status == "done", Event.flagged.is_(None))
        .group_by(Event.render_id, Event.type, Event.name)
    )
    reached: dict[str, _Reached] = defaultdict(_Reached)
    for render_id, type_, name, first_at in rows:
        seen = reached[render_id]
        if type_ in FUNNEL_STEPS:
            at = as_utc(first_at)
            seen.steps[type_] = min(at, seen.steps.get(type_, at))
        if type_ == "video_progress" and name in PROGRESS_MARKS:
            seen.marks.add(name)
        if type_ == "cta" and name:
            seen.ctas.add(name)
    return reached


def batch_analytics(session: Session, batch_id: str) -> dict[str, Any]:
    """Counts and rates per funnel step, by template version and tone, and time to pay.

    Read-only: a render whose tone was never kept gets it from its bill, without a write.
    """
    done = (Render.batch_id == batch_id, Render.status == "done")
    renders = session.execute(
        select(
            Render.id, Render.template, Render.template_version, Render.tone, Render.finished_at
        ).where(*done)
    ).all()
    bills: dict[str, dict[str, Any]] = {
        render_id: bill
        for render_id, bill in session.execute(
            select(Render.id, Render.bill).where(*done, Render.tone.is_(None))
        )
    }
    reached = _reached(session, batch_id)
    total = _Group()
    by_version: dict[str, _Group] = {}
    by_tone: dict[str, _Group] = {}
    marks: Counter[str] = Counter()
    ctas: Counter[str] = Counter()
    waits: list[float] = []
    for render_id, template, version, tone, finished_at in renders:
        seen = reached.get(render_id) or _Reached()
        steps = ["delivered", *(s for s in FUNNEL_STEPS[1:] if s in seen.steps)]
        tone = tone or tone_of(bills.get(render_id)) or "unknown"
        for group in (
            total,
            by_version.setdefault(version or template, _Group()),
            by_tone.setdefault(tone, _Group()),
        ):
            group.steps.update(steps)
        marks.update(seen.marks)
        ctas.update(seen.ctas)
        paid_at = seen.steps.get("paid")
        if paid_at is not None and finished_at is not None:
            waits.append(max(0.0, (paid_at - as_utc(finished_at)).total_seconds()))
    return {
        "batch_id": batch_id,
        **total.body(),
        "video_progress": {mark: marks[mark] for mark in PROGRESS_MARKS},
        "cta": dict(sorted(ctas.items())),
        "by_template_version": [
            {"template_version": name, **group.body()} for name, group in sorted(by_version.items())
        ],
        "by_tone": [
            {"tone": name, **by_tone[name].body()}
            for name in (*TONES, "unknown")
            if name in by_tone
        ],
        "time_to_pay": time_to_pay(waits),
    }


def time_to_pay(waits: Iterable[float]) -> dict[str, Any]:
    ordered = sorted(waits)
    buckets = Counter(_bucket(seconds) for seconds in ordered)
    return {
        "paid": len(ordered),
        "median_seconds": _quantile(ordered, 0.5),
        "p90_seconds": _quantile(ordered, 0.9),
        "buckets": [
            {"bucket": label, "upper_seconds": upper, "count": buckets[label]}
            for label, upper in TIME_TO_PAY_BUCKETS
        ],
    }


def _quantile(ordered: list[float], q: float) -> float | None:
    """The nearest-rank quantile: a time some payment actually took, never an interpolation."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * q // 1))  # ceil(n * q), at least the first
    return ordered[int(rank) - 1]


def _bucket(seconds: float) -> str:
    for label, upper in TIME_TO_PAY_BUCKETS:
        if upper is None or seconds < upper:
            return label
    raise AssertionError("the last bucket is open-ended")


def analytics_rows(body: dict[str, Any]) -> list[list[Any]]:
    """The analytics as flat rows for CSV: dimension, group, step, count, rate."""
    rows: list[list[Any]] = [["dimension", "group", "step", "count", "rate"]]

    def add(dimension: str, group: str, part: dict[str, Any]) -> None:
        for step in FUNNEL_STEPS:
            rate = 1.0 if step == "delivered" and part["funnel"][step] else part["rates"].get(step)
            rows.append([dimension, group, step, part["funnel"][step], rate])

    add("all", "all", body)
    delivered = body["funnel"]["delivered"]
    for mark, count in body["video_progress"].items():
        rows.append(["video_progress", "all", mark, count, _share(count, delivered)])
    for name, count in body["cta"].items():
        rows.append(["cta", "all", name, count, _share(count, delivered)])
    for part in body["by_template_version"]:
        add("template_version", part["template_version"], part)
    for part in body["by_tone"]:
        add("tone", part["tone"], part)
    for bucket in body["time_to_pay"]["buckets"]:
        rows.append(["time_to_pay", bucket["bucket"], "paid", bucket["count"], None])
    return rows


def _share(count: int, delivered: int) -> float:
    return round(count / delivered, 4) if delivered else 0.0
