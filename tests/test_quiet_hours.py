"""Quiet hours in the customer's timezone."""

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.quiet_hours import QuietHours

NIGHT = QuietHours.parse("21:00-08:00")


def utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.mark.parametrize("moment, tz, allowed", [
    (utc(2026, 12, 2, 2, 0), "America/New_York", utc(2026, 12, 2, 13, 0)),  # 21:00 local: wait for 08:00
    (utc(2026, 12, 2, 12, 59), "America/New_York", utc(2026, 12, 2, 13, 0)),  # 07:59 local
    (utc(2026, 12, 2, 13, 0), "America/New_York", utc(2026, 12, 2, 13, 0)),  # 08:00 local: go
    (utc(2026, 12, 2, 1, 59), "America/New_York", utc(2026, 12, 2, 1, 59)),  # 20:59 local: go
    (utc(2026, 12, 2, 6, 0), "America/Los_Angeles", utc(2026, 12, 2, 16, 0)),  # 22:00 in LA
    (utc(2026, 12, 2, 6, 0), "Europe/Berlin", utc(2026, 12, 2, 7, 0)),  # 07:00 in Berlin
])
def test_a_text_in_the_quiet_hours_waits_for_the_morning_in_the_customers_timezone(moment, tz, allowed):
    assert NIGHT.next_allowed(moment, tz) == allowed


def test_morning_after_a_daylight_saving_change_is_still_eight_oclock_local():
    # the night of Sunday Nov 1 2026, when New York falls back from EDT to EST
    assert NIGHT.next_allowed(utc(2026, 11, 1, 3, 0), "America/New_York") == utc(2026, 11, 1, 13, 0)


def test_quiet_hours_within_one_day_do_not_wrap():
    lunch = QuietHours.parse("12:00-13:00")
    assert lunch.next_allowed(utc(2026, 12, 2, 12, 30), "UTC") == utc(2026, 12, 2, 13, 0)
    assert lunch.next_allowed(utc(2026, 12, 2, 13, 30), "UTC") == utc(2026, 12, 2, 13, 30)


def test_off_never_holds_a_text():
    off = QuietHours.parse("off")
    assert off.next_allowed(utc(2026, 12, 2, 3, 0), "America/New_York") == utc(2026, 12, 2, 3, 0)


@pytest.mark.parametrize("text", ["21-8", "25:00-08:00", "21:00-21:00", "night", ""])
def test_a_malformed_span_is_refused(text):
    with pytest.raises(ValueError, match="21:00-08:00"):
        QuietHours.parse(text)


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(timezone.utc)),
       st.sampled_from(["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]))
def test_the_next_allowed_moment_is_never_quiet_and_never_earlier(moment, tz):
    allowed = NIGHT.next_allowed(moment, tz)
    assert allowed >= moment
    assert not NIGHT.is_quiet(allowed, tz)
