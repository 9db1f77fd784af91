"""Dates as a contractor types them, read in the contractor's timezone."""

from datetime import date, datetime, timezone

import pytest

from core.errors import InvalidInput
from core.when import parse_when

NOW = datetime(2026, 12, 1, 13, 30, tzinfo=timezone.utc)  # 08:30 in New York, a Tuesday


@pytest.mark.parametrize("text, expected", [
    ("tomorrow 9am", datetime(2026, 12, 2, 14, 0, tzinfo=timezone.utc)),
    ("Dec 3 8:30am", datetime(2026, 12, 3, 13, 30, tzinfo=timezone.utc)),
    ("next friday 2pm", datetime(2026, 12, 4, 19, 0, tzinfo=timezone.utc)),
    ("2026-12-10 08:00", datetime(2026, 12, 10, 13, 0, tzinfo=timezone.utc)),
])
def test_a_date_is_read_in_the_contractors_timezone(text, expected):
    assert parse_when(text, "America/New_York", NOW) == expected


def test_the_same_words_mean_another_instant_in_another_timezone():
    assert parse_when("tomorrow 9am", "Europe/Berlin", NOW) == datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, message", [("banana", "could not read"), ("", "could not read"),
                                           ("Nov 1 2026 9am", "in the past")])
def test_what_cannot_be_a_date_is_refused_with_an_example(text, message):
    with pytest.raises(InvalidInput, match=message) as refusal:
        parse_when(text, "America/New_York", NOW)
    assert "tomorrow 9am" in str(refusal.value)


@pytest.mark.parametrize("text, day", [
    ("Dec 3", date(2026, 12, 3)),
    ("tomorrow", date(2026, 12, 2)),  # a day, not tomorrow at the time it is now
    ("next friday", date(2026, 12, 4)),
    ("2026-12-10", date(2026, 12, 10)),
])
def test_a_day_without_a_time_of_day_is_a_date(text, day):
    assert parse_when(text, "America/New_York", NOW) == day
    assert type(parse_when(text, "America/New_York", NOW)) is date  # not a datetime at midnight


def test_a_time_of_day_given_makes_a_moment_even_at_midnight():
    assert parse_when("Dec 3 midnight", "America/New_York", NOW) == datetime(2026, 12, 3, 5, tzinfo=timezone.utc)


def test_the_day_is_the_contractors_day():
    assert parse_when("tomorrow", "Pacific/Kiritimati", NOW) == date(2026, 12, 3)  # already Dec 2 there


def test_a_day_before_yesterday_is_refused():
    with pytest.raises(InvalidInput, match="in the past"):
        parse_when("Nov 29 2026", "America/New_York", NOW)
