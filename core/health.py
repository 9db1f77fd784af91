"""What monitoring reads (/healthz, /metrics): the outbox's queue now, and the worker's last turn of the loop.

The worker records each turn in the database rather than in its own memory: the web app that a load balancer or
a watchdog asks is another process, perhaps on another machine, and every process reading the same rows says the
same thing. A turn is late after LATE_AFTER_SCANS of the worker's own scan intervals (it records its interval
with each turn, so no other process needs to be told it).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from storage.models import OutboxMessage, WorkerTurn

LATE_AFTER_SCANS = 3  # one missed scan is a busy worker; three, one that is stuck or gone
# Before any turn is recorded, how long a process waits for the first before it calls the worker missing: a worker
# turns at once when it starts, and one started beside this process starts with it.
FIRST_TURN_WITHIN = timedelta(minutes=2)


@dataclass(frozen=True)
class Waiting:
    """One channel's messages not yet sent: how many, and since when the longest-waiting of those due now was due."""

    count: int = 0
    due_since: datetime | None = None  # None: none is due and unsent (held ones wait for a later moment)


@dataclass(frozen=True)
class LastTurn:
    at: datetime  # when it ended
    took: timedelta
    every: timedelta  # the worker's scan interval

    def late(self, now: datetime) -> bool:
        return now - self.at > LATE_AFTER_SCANS * self.every


def waiting(now: datetime) -> dict[str, Waiting]:
    """The outbox's queue by channel: messages pending or being sent, and the oldest due moment among the pending."""
    counts = dict(OutboxMessage.select(OutboxMessage.channel, fn.COUNT(OutboxMessage.id))
                  .where(OutboxMessage.state.in_(("pending", "sending")))
                  .group_by(OutboxMessage.channel).tuples())
    oldest = dict(OutboxMessage.select(OutboxMessage.channel, fn.MIN(OutboxMessage.next_attempt_at))
                  .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now)
                  .group_by(OutboxMessage.channel).tuples())
    return {channel: Waiting(count, oldest.get(channel)) for channel, count in counts.items()}


def record_turn(at: datetime, took: timedelta, every: timedelta) -> None:
    """The worker ended a turn of the loop at `at`, having taken `took`; it turns every `every`."""
    fields = {WorkerTurn.at: at, WorkerTurn.took_ms: round(took / timedelta(milliseconds=1)),
              WorkerTurn.every_ms: round(every / timedelta(milliseconds=1))}
    (WorkerTurn.insert({WorkerTurn.id: 1, **fields})
     .on_conflict(conflict_target=[WorkerTurn.id], update=fields).execute())


def last_turn() -> LastTurn | None:
    """The latest turn any worker recorded; None before the first."""
    row = WorkerTurn.get_or_none(WorkerTurn.id == 1)
    if row is None:
        return None
    return LastTurn(row.at, timedelta(milliseconds=row.took_ms), timedelta(milliseconds=row.every_ms))


def worker_trouble(now: datetime, since: datetime) -> str | None:
    """Why the worker looks down, in a sentence for whoever reads /healthz; None when its last turn is recent (or,
    with none recorded yet, while this process, up `since`, still waits for the first)."""
    turn = last_turn()
    if turn is None:
        if now - since <= FIRST_TURN_WITHIN:
            return None
        return (f"no worker has turned in the {_seconds(now - since)} since this process started: is "
                "`paystage worker` (or `paystage run`) running?")
    if turn.late(now):
        return (f"the worker's last turn ended {_seconds(now - turn.at)} ago; it turns every "
                f"{_seconds(turn.every)}: is `paystage worker` (or `paystage run`) running?")
    return None


def _seconds(span: timedelta) -> str:
    return f"{span.total_seconds():.0f}s"
