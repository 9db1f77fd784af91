"""The outbox dispatcher: sends what the use cases queued, once, politely, and never loses it.

For each claimed message: a customer's text waits out their quiet hours (a
direct answer to their own text does not), a number that opted out gets
nothing, each sender keeps its pace (a Twilio long code takes about one text
a second; Telegram one message a second per chat, thirty overall). Then the
channel's sender is called. A transient failure is retried with exponential
backoff and jitter up to a limit; a permanent one (an invalid number, a STOP,
a blocked bot) is not retried, and the contractor is told once.

A message is sent at most once unless a dispatcher dies between the
provider accepting it and recording that: the outbox lease then lets another
dispatcher take it again. That window is one message wide per dispatcher.
The same holds for a send that times out after the provider accepted it:
Twilio's Messages API has no idempotency key, so the retry may be a second
copy. Both are rare, and a lost payment request would be worse.

Each outcome is one log line naming the message's job, its kind and its
outbox id (never its recipient or its words), and is told to `observe` (the
process's metrics, paystage/metrics.py), which keeps core/ free of them.
"""

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Protocol

from core.clock import Clock
from core.delivery import DeliveryError, Outgoing, Sender
from core.jobs import opted_out, opted_out_among
from core.journal import tell_contractor
from core.quiet_hours import QuietHours
from core.wording.language import _, speaking
from storage import outbox
from storage.models import Customer, OutboxMessage, db
from storage.wake import Watch, watch

log = logging.getLogger(__name__)

LONGEST_WAIT_IN_HAND = timedelta(seconds=2)  # pace waits longer than this go back to the queue
STOPS_READ_FOR = timedelta(milliseconds=250)  # a batch's read of who opted out serves its sends this long


@dataclass(frozen=True)
class DeliveryPolicy:
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    max_attempts: int = 8
    first_backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(hours=1)
    # a claimed batch is ours this long: more than a batch of sends at their slowest (timeout + pace wait)
    lease: timedelta = timedelta(minutes=5)
    batch: int = 10
    sms_interval: timedelta | None = timedelta(seconds=1)  # per sender number
    telegram_chat_interval: timedelta | None = timedelta(seconds=1)
    telegram_interval: timedelta | None = timedelta(seconds=1 / 30)


class _Told(logging.LoggerAdapter):
    """The log about one outbox message: each line starts with what it is (channel, kind, job, outbox id; never whom
    it is to, nor its words) and carries its job's ref (the JSON log's "job"), which the claim read with it."""

    def __init__(self, message: OutboxMessage):
        super().__init__(log, {"job": message.job_ref})
        self.what = f"{message.channel} {message.kind} for {message.job_ref or 'no job'} (outbox {message.id})"

    def process(self, msg, kwargs):
        return f"{self.what} {msg}", {**kwargs, "extra": self.extra}


class Observe(Protocol):
    def __call__(self, channel: str, outcome: str, waited: timedelta | None) -> None:
        """One send attempt: "sent" (`waited` since it was queued), "failed" (to be retried) or "permanent" (failed
        for good: a permanent error, or the last attempt)."""


def _unobserved(channel: str, outcome: str, waited: timedelta | None) -> None:
    pass


class _Batch:
    """Who among a claimed batch's recipients opted out of texts (STOP): read right after the claim, one query for
    the whole batch rather than one a text.

    That read serves the sends that start within STOPS_READ_FOR of it (unpaced, a whole batch); a later send
    (paced, or behind a slow Twilio) looks its recipient up again, as every send did before. A send refused
    because the customer opted out adds them, so the batch's next text to them is not tried.
    """

    def __init__(self, claimed: list[OutboxMessage], read_at: datetime):
        self.stopped = opted_out_among({message.recipient for message in claimed if message.channel == "sms"})
        self.read_at = read_at

    def opted_out(self, recipient: str, now: datetime) -> bool:
        if recipient in self.stopped:
            return True
        return now - self.read_at > STOPS_READ_FOR and opted_out(recipient)


class Dispatcher:
    def __init__(self, clock: Clock, senders: dict[str, Sender], policy: DeliveryPolicy = DeliveryPolicy(), *,
                 sms_sender_id: str = "default", sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None, observe: Observe | None = None):
        self.clock = clock
        self.senders = senders
        self.policy = policy
        self.sms_sender_id = sms_sender_id  # the Twilio number (or service) the SMS pace belongs to
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.observe = observe or _unobserved

    def dispatch(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Claim a batch of due messages and deliver them; returns how many were claimed.

        When `stopping()` turns true the send in flight finishes and the rest
        of the batch goes back to the queue at once, for the next dispatcher.
        """
        now = self.clock()
        claimed = outbox.claim(now, self.policy.lease, self.policy.batch)
        batch = _Batch(claimed, now)
        for index, message in enumerate(claimed):
            if stopping():
                for unsent in claimed[index:]:
                    outbox.release(unsent.id, unsent.next_attempt_at, error=unsent.last_error)
                break
            try:
                self._deliver(message, batch)
            except Exception:  # one bad message must not stop the others; its lease will free it
                log.exception("delivering outbox message %s failed unexpectedly", message.id)
        return len(claimed)

    def watch_queue(self, wake: Callable[[], None]) -> Watch:
        """Call `wake` whenever a message is queued, until the returned Watch is closed: once the transaction that
        queued it commits in this process, and on PostgreSQL in any other (storage/wake.py). A dispatcher woken so
        sends at once instead of at its next poll."""
        return watch(wake)

    def drain(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Dispatch until nothing is due now (or until stopping); returns how many messages were claimed."""
        total = 0
        while not stopping() and (count := self.dispatch(stopping)):
            total += count
        return total

    def _deliver(self, message: OutboxMessage, batch: _Batch) -> None:
        now = self.clock()
        said = _Told(message)
        if message.channel == "sms" and not message.reply:
            if batch.opted_out(message.recipient, now):
                outbox.mark_cancelled(message.id, "the customer opted out of texts (STOP)")
                said.info("not sent: the customer opted out of texts (STOP)")
                return
            allowed = self.policy.quiet_hours.next_allowed(now, message.timezone or "UTC")
            if allowed > now:
                outbox.release(message.id, allowed)
                said.info("held for the customer's quiet hours until %s", f"{allowed:%Y-%m-%d %H:%M} UTC")
                return
        for key, interval in self._paces(message):
            slot = outbox.take_slot(key, interval, now, within=LONGEST_WAIT_IN_HAND)
            if slot - now > LONGEST_WAIT_IN_HAND:
                outbox.release(message.id, slot)
                return
            if slot > now:
                self.sleep((slot - now).total_seconds())
        attempts = message.attempts + 1
        sender = self.senders[message.channel]
        try:
            provider_id = sender.send(Outgoing(message.id, message.channel, message.recipient, message.body,
                                               message.kind))
        except DeliveryError as error:
            if error.opted_out:
                batch.stopped.add(message.recipient)
            self._failed(message, error, attempts, said)
        else:
            sent_at = self.clock()
            outbox.mark_sent(message.id, sent_at, provider_id, attempts)
            said.info("sent (%s)", provider_id)
            self.observe(message.channel, "sent", sent_at - message.created_at)

    def _paces(self, message: OutboxMessage) -> list[tuple[str, timedelta]]:
        p = self.policy
        if message.channel == "sms":
            paces = [(f"sms:{self.sms_sender_id}", p.sms_interval)]
        else:
            paces = [(f"telegram:{message.recipient}", p.telegram_chat_interval), ("telegram", p.telegram_interval)]
        return [(key, interval) for key, interval in paces if interval]

    def _failed(self, message: OutboxMessage, error: DeliveryError, attempts: int, said: _Told) -> None:
        now = self.clock()
        if not error.permanent and attempts < self.policy.max_attempts:
            delay = self._backoff(attempts)
            if error.retry_after:
                delay = max(delay, timedelta(seconds=error.retry_after))
            said.warning("not sent, retry %d in %s: %s", attempts, delay, error)
            outbox.release(message.id, now + delay, error=str(error), attempts=attempts)
            self.observe(message.channel, "failed", None)
            return
        said.warning("failed for good after %d attempt(s): %s", attempts, error)
        with db.atomic():
            outbox.mark_failed(message.id, str(error), attempts)
            _undeliverable(message, error, now)
        self.observe(message.channel, "permanent", None)

    def _backoff(self, attempts: int) -> timedelta:
        """Exponential, capped, with jitter so that many retries do not arrive together."""
        p = self.policy
        ceiling = min(p.max_backoff, p.first_backoff * 2 ** (attempts - 1))
        return ceiling * self.rng.uniform(0.5, 1.0)


def record_delivery_status(provider_id: str, status: str, *, supersedes: set[str], now: datetime,
                           error_code: int | None = None, error: DeliveryError | None = None) -> bool:
    """The provider's word on a message it accepted: delivered, undelivered, ...

    Stored monotonically: `status` only replaces one of the statuses it
    `supersedes` (so a late "sent" never overwrites "delivered"), and the same
    callback twice changes nothing. A permanent failure is handled as if the
    send had failed (an opt-out recorded, the contractor told once).
    Returns whether anything changed.
    """
    with db.atomic():
        changed = (OutboxMessage.update(delivery_status=status, delivery_error=error_code)
                   .where(OutboxMessage.provider_id == provider_id,
                          OutboxMessage.delivery_status.is_null() | OutboxMessage.delivery_status.in_(supersedes))
                   .execute())
        if changed and error is not None and error.permanent:
            for message in OutboxMessage.select().where(OutboxMessage.provider_id == provider_id):
                _undeliverable(message, error, now)
        return bool(changed)


def _undeliverable(message: OutboxMessage, error: DeliveryError, now: datetime) -> None:
    """A message that can never arrive: record an opt-out, and tell the contractor once."""
    if error.opted_out:
        (Customer.update(opted_out_at=now)
         .where(Customer.phone == message.recipient, Customer.opted_out_at.is_null()).execute())
    if message.channel == "sms" and message.job_id:
        job = message.job
        tell_contractor(job.contractor, job, "delivery_failed", _failure_notice(message, job, error),
                        key=f"outbox:{message.id}:failed", now=now)


def _failure_notice(message: OutboxMessage, job, error: DeliveryError) -> str:
    """In the contractor's language: no message of theirs is being answered (the worker sends this)."""
    said = dict(ref=job.ref, customer=job.customer.name, phone=message.recipient)
    with speaking(job.contractor.language):
        if error.opted_out:
            return _("{ref}: {customer} ({phone}) has opted out of texts (replied STOP), so they did not get: "
                     "{text}. They can text START to get texts again.").format(
                text=message.kind.replace("_", " "), **said)
        return _("{ref}: a text to {customer} ({phone}) could not be delivered ({error}). "
                 "Check the number with them.").format(error=error, **said)

