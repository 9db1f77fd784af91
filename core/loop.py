"""One turn of the time-driven work, whatever runs it: the APScheduler loop, the demo, a test.

Every step is idempotent and safe to run from several processes at once: a
milestone is announced and each reminder queued exactly once, because each
is claimed with a conditional update and queued under a dedupe key.
"""

from dataclasses import dataclass

from core.change_orders import remind_and_expire
from core.context import Context
from core.due import announce_all_due
from core.reminders import remind_overdue, warn_unpaid_before_events


@dataclass(frozen=True)
class Turn:
    announced: tuple[int, ...]  # milestones whose payment-due text was queued
    reminded: tuple[int, ...]  # milestones whose overdue reminder was queued
    warned: tuple[int, ...]  # events whose contractor was warned of an unpaid "before" payment
    change_orders: tuple[int, ...] = ()  # change orders reminded of, or expired


def turn(ctx: Context) -> Turn:
    return Turn(
        announced=tuple(announce_all_due(ctx)),
        reminded=tuple(remind_overdue(ctx)),
        warned=tuple(warn_unpaid_before_events(ctx)),
        change_orders=tuple(remind_and_expire(ctx)),
    )
