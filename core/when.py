"""Dates and times as a contractor types them ("tomorrow 9am", "Dec 3 8:30", "next friday 2pm", "Dec 3")."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser

from core.errors import InvalidInput
from core.wording.language import N_, _

IN_THE_PAST = N_("{text} is in the past.")
# Said after a refusal as a sentence of its own: _(EXAMPLE) where it is said.
EXAMPLE = N_("Write it like: tomorrow 9am, Dec 3 8:30am, or next Friday 2pm.")


def parse_when(text: str, tz: str, now: datetime) -> datetime | date:
    """What was meant, read in the contractor's timezone `tz`: a moment, as an aware UTC datetime, or a day
    with no time of day, as a date ("Dec 3", "next friday", "tomorrow": a day, not the time it is now).

    Refuses what cannot be read, and a moment more than a day in the past or a
    day before yesterday (a typo far more often than a real date).
    """
    local_now = now.astimezone(ZoneInfo(tz))
    parser = DateDataParser(languages=["en"], settings={
        "TIMEZONE": tz, "RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "RETURN_TIME_AS_PERIOD": True,  # "time" when a time of day was given, else "day" (or week, month...)
    })
    read = parser.get_date_data(text.strip()) if text.strip() else None
    if read is None or read.date_obj is None:
        raise InvalidInput(_refusal(_("I could not read {text} as a date."), text))
    if read.period != "time":
        day = read.date_obj.astimezone(ZoneInfo(tz)).date()
        if day < local_now.date() - timedelta(days=1):
            raise InvalidInput(_refusal(_(IN_THE_PAST), text))
        return day
    moment = read.date_obj.astimezone(timezone.utc)
    if moment < now - timedelta(days=1):
        raise InvalidInput(_refusal(_(IN_THE_PAST), text))
    return moment


def _refusal(sentence: str, text: str) -> str:
    """A translated refusal naming what was typed, then how to write a date."""
    return " ".join((sentence.format(text=repr(text.strip())), _(EXAMPLE)))
