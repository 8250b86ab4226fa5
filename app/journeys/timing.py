"""When a step is due: its day from the due date, at `send_at` in the customer's time zone,
moved out of quiet hours; and how late it may still run.

Everything stored is UTC; local time only places and moves moments. A local time that does
not exist (the hour skipped when clocks go forward) becomes the real moment just after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from app.journeys.model import QuietHours
from renderers.story import tone as bill_tone


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at `at` in `tz`, as UTC."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def out_of_quiet_hours(moment: datetime, tz: ZoneInfo, quiet: QuietHours) -> datetime:
    """`moment` itself, or the end of the quiet hours it falls in (UTC either way)."""
    local = moment.astimezone(tz)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return moment
    day = local.date()
    if quiet.start > quiet.end and local.time().replace(tzinfo=None) >= quiet.start:
        day += timedelta(days=1)  # evening: quiet hours end tomorrow morning
    return local_moment(day, quiet.end, tz)


def step_times(
    due_on: date,
    offsets: Sequence[int],
    send_at: time,
    tz: ZoneInfo,
    quiet: QuietHours,
    grace: timedelta,
) -> list[tuple[datetime, datetime]]:
    """(due, last moment it may still start) of each step; a step is never late past the
    next step's time, the last one `grace` after its own."""
    dues = [
        out_of_quiet_hours(local_moment(due_on + timedelta(days=o), send_at, tz), tz, quiet)
        for o in offsets
    ]
    ends = [min(due + grace, later) for due, later in pairwise(dues)]
    ends.append(dues[-1] + grace)
    return list(zip(dues, ends, strict=True))


def tone_on(bill: Mapping[str, Any], day: date) -> str:
    """The tone the bill's own rules give on `day`: an open bill past its due date is overdue
    by then, by as many days as have passed."""
    body = bill["bill"]
    due = date.fromisoformat(body["due_on"])
    if body["status"] in ("open", "overdue") and day > due:
        days = max(int(body.get("days_overdue") or 0), (day - due).days)
        bill = {**bill, "bill": {**body, "status": "overdue", "days_overdue": days}}
    return bill_tone(bill)
