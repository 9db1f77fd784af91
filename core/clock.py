"""Time is injected: core logic takes a clock or a ``now``, never the wall."""

from datetime import datetime, timedelta, timezone
from typing import Callable

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class FrozenClock:
    """A clock that only moves when told to: for tests and the demo."""

    def __init__(self, now: datetime):
        self.now = require_aware(now)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, now: datetime) -> datetime:
        self.now = require_aware(now)
        return self.now


def require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every moment in Paystage carries a timezone")
    return moment
