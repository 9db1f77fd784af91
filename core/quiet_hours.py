"""Quiet hours: no text reaches a customer at night, in the customer's own timezone.

A held text waits for the morning; it is never dropped. A direct answer to
the customer's own text is not held (the dispatcher decides that, not this).
"""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietHours:
    start: time | None = time(21, 0)
    end: time | None = time(8, 0)

    @classmethod
    def parse(cls, text: str) -> "QuietHours":
        """``21:00-08:00`` (may wrap past midnight) or ``off``."""
        if text.strip().lower() == "off":
            return cls(None, None)
        match = _SPAN.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a span of hours; write it like 21:00-08:00, or off")
        h1, m1, h2, m2 = map(int, match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
            raise ValueError(f"{text!r} is not a span of hours; write it like 21:00-08:00, or off")
        return cls(time(h1, m1), time(h2, m2))

    def is_quiet(self, moment: datetime, tz: str) -> bool:
        if self.start is None:
            return False
        local = moment.astimezone(ZoneInfo(tz)).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, moment: datetime, tz: str) -> datetime:
        """`moment` itself, or the end of the quiet hours it falls in (as a UTC datetime)."""
        if not self.is_quiet(moment, tz):
            return moment
        zone = ZoneInfo(tz)
        local = moment.astimezone(zone)
        end_day = local.date() if local.time() < self.end else local.date() + timedelta(days=1)
        # a wall time that does not exist (a DST jump) is read by zoneinfo as the hour after
        return datetime.combine(end_day, self.end, zone).astimezone(timezone.utc)
