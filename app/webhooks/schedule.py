"""When a failed delivery is tried again: the Standard Webhooks backoff with full jitter,
`Retry-After` on a 429, and the end of the retry window.
"""

from __future__ import annotations

import email.utils
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.infra.database import as_utc
from app.webhooks.sender import Outcome

# Longest wait after the 1st, 2nd, ... failed attempt, the Standard Webhooks reference
# schedule; the last ceiling repeats until the retry window (a setting, 3 days) ends.
BACKOFF_CEILINGS_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
MIN_RETRY_DELAY_SECONDS = 1


def backoff_ceiling(attempts: int) -> timedelta:
    """The longest wait after `attempts` failed attempts (1 = after the first)."""
    index = min(max(attempts, 1), len(BACKOFF_CEILINGS_SECONDS)) - 1
    return timedelta(seconds=BACKOFF_CEILINGS_SECONDS[index])


def retry_delay(attempts: int, rng: random.Random) -> timedelta:
    """Full jitter: anywhere up to the ceiling, so that when an endpoint comes back after an
    outage its backlog arrives spread out rather than all at once."""
    ceiling = backoff_ceiling(attempts).total_seconds()
    return timedelta(seconds=max(MIN_RETRY_DELAY_SECONDS, rng.uniform(0, ceiling)))


def retry_after_delay(header: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds or as an HTTP date; None when absent or unreadable."""
    if header is None:
        return None
    text = header.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(timedelta(0), as_utc(when) - now)


@dataclass(frozen=True)
class NextState:
    status: str
    next_attempt_at: datetime | None = None  # only for `pending`


def next_state(
    outcome: Outcome,
    *,
    attempts: int,
    created_at: datetime,
    now: datetime,
    window: timedelta,
    rng: random.Random,
) -> NextState:
    """Where a delivery goes after its `attempts`-th attempt ended with `outcome`."""
    if outcome.ok:
        return NextState("delivered")
    if outcome.status_code == 410:
        return NextState("disabled")
    deadline = as_utc(created_at) + window
    if outcome.permanent or now >= deadline:
        return NextState("failed")
    delay = retry_after_delay(outcome.retry_after, now) if outcome.status_code == 429 else None
    if delay is None:
        delay = retry_delay(attempts, rng)
    delay = max(delay, timedelta(seconds=MIN_RETRY_DELAY_SECONDS))
    # The last try is made when the window closes, so the total is the window, no more.
    return NextState("pending", min(now + delay, deadline))
