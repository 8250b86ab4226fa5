"""When steps fall: the customer's time zone, quiet hours, clock changes, grace, tone rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from app.journeys.contacts import next_free
from app.journeys.model import QuietHours
from app.journeys.timing import out_of_quiet_hours, step_times, tone_on, zone
from tests.factories import make_bill

NIGHT = QuietHours(start=time(21, 0), end=time(8, 0))
ROME, TOKYO = zone("Europe/Rome"), zone("Asia/Tokyo")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_steps_fall_at_send_time_in_the_customers_zone_and_clock_changes_are_kept() -> None:
    times = step_times(date(2026, 3, 30), [-3, 1], time(10, 0), ROME, NIGHT, timedelta(days=3))
    # Rome moves to summer time on 29 March 2026: 10:00 is 09:00 UTC before, 08:00 after.
    assert [due for due, _ in times] == [at("2026-03-27T09:00"), at("2026-03-31T08:00")]
    # The first step's window closes at the next step's time, before its three days' grace.
    assert times[0][1] == at("2026-03-30T09:00") and times[1][1] == at("2026-04-03T08:00")
    skipped_hour = step_times(
        date(2026, 3, 29),
        [0],
        time(2, 30),
        ROME,
        QuietHours(start=time(12, 0), end=time(13, 0)),
        timedelta(days=1),
    )
    assert skipped_hour[0][0] == at("2026-03-29T01:30")  # 03:30 local, just after the gap


def test_quiet_hours_move_a_moment_to_their_end_across_midnight_or_within_a_day() -> None:
    assert out_of_quiet_hours(at("2026-11-27T20:30"), ROME, NIGHT) == at("2026-11-28T07:00")
    assert out_of_quiet_hours(at("2026-11-27T05:00"), ROME, NIGHT) == at("2026-11-27T07:00")
    assert out_of_quiet_hours(at("2026-11-27T12:00"), ROME, NIGHT) == at("2026-11-27T12:00")
    assert out_of_quiet_hours(at("2026-11-27T12:00"), TOKYO, NIGHT) == at("2026-11-27T23:00")
    lunch = QuietHours(start=time(12, 0), end=time(14, 0))
    assert out_of_quiet_hours(at("2026-11-27T11:30"), ROME, lunch) == at("2026-11-27T13:00")


def test_the_rules_make_a_bill_overdue_by_the_days_passed_and_a_chronic_payer_firm() -> None:
    bill = make_bill()  # open, due 2026-11-30
    assert [tone_on(bill, date(2026, 11, d)) for d in (27, 30)] == ["pay", "pay"]
    assert tone_on(bill, date(2026, 12, 1)) == "nudge"
    assert tone_on(bill, date(2026, 12, 31)) == "firm"  # over 30 days late
    assert tone_on(make_bill(**{"customer.segment": "chronic"}), date(2026, 12, 1)) == "firm"


def test_the_limit_frees_a_slot_when_the_oldest_counted_contact_leaves_the_window() -> None:
    now = at("2026-11-27T10:00")
    one, two = now - timedelta(days=6), now - timedelta(days=2)
    assert next_free([one], now, 2, 7) is None
    assert next_free([one, two], now, 2, 7) == one + timedelta(days=7)
    assert next_free([now - timedelta(days=8), two], now, 2, 7) is None  # aged out already
    assert next_free([one, two], now, 1, 7) == two + timedelta(days=7)
