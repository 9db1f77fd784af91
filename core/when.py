"""Dates and times as a contractor types them ("tomorrow 9am", "Dec 3 8:30", "next friday 2pm")."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dateparser

from core.errors import InvalidInput

EXAMPLE = "Write it like: tomorrow 9am, Dec 3 8:30am, or next Friday 2pm."


def parse_when(text: str, tz: str, now: datetime) -> datetime:
    """The moment meant, read in the contractor's timezone `tz`, as an aware UTC datetime.

    Refuses what cannot be read, and a moment more than a day in the past
    (a typo far more often than a real date).
    """
    local_now = now.astimezone(ZoneInfo(tz))
    moment = dateparser.parse(
        text.strip(), languages=["en"],
        settings={"TIMEZONE": tz, "RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DATES_FROM": "future",
                  "RELATIVE_BASE": local_now.replace(tzinfo=None)},
    ) if text.strip() else None
    if moment is None:
        raise InvalidInput(f"I could not read {text.strip()!r} as a date. {EXAMPLE}")
    moment = moment.astimezone(timezone.utc)
    if moment < now - timedelta(days=1):
        raise InvalidInput(f"{text.strip()!r} is in the past. {EXAMPLE}")
    return moment
