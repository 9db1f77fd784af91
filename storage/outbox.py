"""The outbox as a work queue: claiming messages to send, and recording how sending went.

Several dispatchers, in one process or many, may work the same outbox. A
claim is a lease: the message is ours until `claimed_until`; a dispatcher
that dies mid-send leaves it to be taken again when the lease runs out. On
PostgreSQL the claim reads with ``FOR UPDATE SKIP LOCKED`` so concurrent
dispatchers take disjoint rows without waiting; SQLite runs one write
transaction at a time (``BEGIN IMMEDIATE``), and the claiming UPDATE repeats
the claimable condition, so a row is only ever taken by one of them.
"""

from datetime import datetime, timedelta

from storage.models import OutboxMessage, RateLimit, db


def _claimable(now: datetime):
    pending = (OutboxMessage.state == "pending") & (OutboxMessage.next_attempt_at <= now)
    abandoned = (OutboxMessage.state == "sending") & (OutboxMessage.claimed_until < now)
    return pending | abandoned


def claim(now: datetime, lease: timedelta, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` messages that are due, oldest first; they are ours until now + lease."""
    with db.atomic():
        query = (OutboxMessage.select(OutboxMessage.id).where(_claimable(now))
                 .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
        if db.for_update:
            query = query.for_update(skip_locked=True)
        ids = [row.id for row in query]
        if not ids:
            return []
        (OutboxMessage.update(state="sending", claimed_until=now + lease)
         .where(OutboxMessage.id.in_(ids), _claimable(now)).execute())
        return list(OutboxMessage.select().where(OutboxMessage.id.in_(ids), OutboxMessage.state == "sending")
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id))


def _settle(message_id: int, **fields) -> bool:
    """Record the outcome of a claimed message; False if it is no longer ours to settle."""
    return bool(OutboxMessage.update(claimed_until=None, **fields)
                .where(OutboxMessage.id == message_id, OutboxMessage.state == "sending").execute())


def mark_sent(message_id: int, now: datetime, provider_id: str, attempts: int) -> bool:
    return _settle(message_id, state="sent", sent_at=now, provider_id=provider_id, attempts=attempts,
                   last_error="")


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
