"""The outbox as a work queue: claiming messages to send, and recording how sending went.

Several dispatchers, in one process or many, may work the same outbox. A
claim is a lease: the message is ours until `claimed_until`; a dispatcher
that dies mid-send leaves it to be taken again when the lease runs out. On
PostgreSQL the claim reads with ``FOR UPDATE SKIP LOCKED`` so concurrent
dispatchers take disjoint rows without waiting; SQLite runs one writer at a
time, and a claim is one statement, so a row is only ever taken by one of
them.
"""

from datetime import datetime, timedelta
from functools import lru_cache

from storage.database import returns_rows
from storage.models import Job, OutboxMessage, RateLimit, db


def _pending(now: datetime):
    return (OutboxMessage.state == "pending") & (OutboxMessage.next_attempt_at <= now)


def _abandoned(now: datetime):
    """Taken by a dispatcher that died before its lease ran out."""
    return (OutboxMessage.state == "sending") & (OutboxMessage.claimed_until < now)


def claim(now: datetime, lease: timedelta, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` messages that are due, oldest first; they are ours until now + lease.

    Abandoned messages first (rare, and few: at most a batch per dead dispatcher), then pending ones, each in one
    statement whose condition reads the (state, next_attempt_at, id) index in order: an OR of the two made the
    database sort every due text to pick ten (docs/benchmarks.md, "Dispatch"). Each comes with its job's ref,
    `job_ref`, for the log (None without a job).
    """
    claimed = _take(_abandoned(now), now, lease, limit)
    if len(claimed) < limit:
        claimed += _take(_pending(now), now, lease, limit - len(claimed))
    claimed.sort(key=lambda message: (message.next_attempt_at, message.id))
    return claimed


def _take(condition, now: datetime, lease: timedelta, limit: int) -> list[OutboxMessage]:
    """One UPDATE ... RETURNING that takes up to `limit` messages meeting `condition`, oldest first, with their job's
    ref. The rows are picked in a CTE (an IN subquery may run again per row and take more than `limit`), and taken
    by their ids alone: one statement is atomic on SQLite, one writer at a time, and on PostgreSQL FOR UPDATE SKIP
    LOCKED skips rows another dispatcher holds and checks `condition` again on a row changed since the statement
    began. Repeating `condition` in the UPDATE would make SQLite find the rows to update by that index range,
    every due text, instead of by their ids."""
    due = (OutboxMessage.select(OutboxMessage.id).where(condition)
           .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if db.for_update:
        due = due.for_update(skip_locked=True)
    job_ref = Job.select(Job.ref).where(Job.id == OutboxMessage.job)
    taken = dict(state="sending", claimed_until=now + lease)
    if not returns_rows():  # SQLite before 3.35: read, then update, in one write transaction (the only writer)
        with db.atomic():
            ids = [id for (id,) in due.tuples()]
            if not ids:
                return []
            OutboxMessage.update(**taken).where(OutboxMessage.id.in_(ids)).execute()
            return list(OutboxMessage.select(OutboxMessage, job_ref.alias("job_ref"))
                        .where(OutboxMessage.id.in_(ids)).objects())
    due = due.cte("due")
    return list(OutboxMessage.update(**taken).with_cte(due)
                .where(OutboxMessage.id.in_(due.select(due.c.id)))
                .returning(OutboxMessage, job_ref.alias("job_ref")).objects())


def _settle(message_id: int, **fields) -> bool:
    """Record the outcome of a claimed message; False if it is no longer ours to settle."""
    return bool(OutboxMessage.update(claimed_until=None, **fields)
                .where(OutboxMessage.id == message_id, OutboxMessage.state == "sending").execute())


def mark_sent(message_id: int, now: datetime, provider_id: str, attempts: int) -> bool:
    """`_settle(state="sent", ...)` in SQL written once: the dispatcher runs it after every text, and peewee took
    0.14-0.21 ms of CPU to build it each time against 0.03-0.06 ms for this, of about 1.2 ms a text in all
    (tests/test_outbox.py checks it leaves the row as the ORM's update does)."""
    m = OutboxMessage
    values = ("sent", m.sent_at.db_value(now), provider_id, attempts, "", message_id, "sending")
    return bool(db.execute_sql(_mark_sent_sql(m._meta.table_name, db.param), values).rowcount)


@lru_cache
def _mark_sent_sql(table: str, param: str) -> str:
    return (f'UPDATE "{table}" SET "state" = {param}, "sent_at" = {param}, "provider_id" = {param}, '
            f'"attempts" = {param}, "last_error" = {param}, "claimed_until" = NULL '
            f'WHERE "id" = {param} AND "state" = {param}')


def mark_failed(message_id: int, error: str, attempts: int) -> bool:
    return _settle(message_id, state="failed", last_error=error[:500], attempts=attempts)


def mark_cancelled(message_id: int, reason: str) -> bool:
    return _settle(message_id, state="cancelled", last_error=reason)


def release(message_id: int, at: datetime, *, error: str = "", attempts: int | None = None) -> bool:
    """Back to pending until `at`: a retry after a failure, or a hold (quiet hours, pacing)."""
    fields = {"state": "pending", "next_attempt_at": at, "last_error": error[:500]}
    if attempts is not None:
        fields["attempts"] = attempts
    return _settle(message_id, **fields)


def take_slot(key: str, interval: timedelta, now: datetime, within: timedelta) -> datetime:
    """The moment this sender may send next: one pace shared by all dispatchers.

    The slot is reserved only when it comes within `within`; a later one is
    just reported, so a message sent back to the queue until then finds it
    free instead of pushing itself further back each time.
    """
    with db.atomic():
        RateLimit.insert(key=key, next_at=now).on_conflict_ignore().execute()
        query = RateLimit.select().where(RateLimit.key == key)
        row = (query.for_update() if db.for_update else query).get()
        slot = max(row.next_at, now)
        if slot - now <= within:
            RateLimit.update(next_at=slot + interval).where(RateLimit.key == key).execute()
        return slot
