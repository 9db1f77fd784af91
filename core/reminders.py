"""The time-driven messages: overdue reminders to customers, and the day-before warning to contractors."""

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from peewee import Database

from core.context import Context
from core.journal import tell_contractor, text_customer
from core.plan import TriggerKind
from core.views import job_view, processing_milestones
from core.wording import contractor_texts, customer_texts
from storage.models import ChangeOrder, Event, Job, Milestone, db

GATE_NOTICE = timedelta(hours=24)  # how long before an event its contractor hears of an unpaid "before" payment
WHOLE_DAY_EVERY = timedelta(hours=1)  # the day-before warning reads the whole next day again this often


def remind_overdue(ctx: Context) -> list[int]:
    """Send each overdue milestone's next reminder; returns the ids reminded.

    One reminder per milestone per run, however long the process was down:
    missed reminders are coalesced into one, and the next comes `every` later.
    A milestone paid in the meantime gets no reminder and none to come.
    """
    now, policy = ctx.clock(), ctx.reminders
    reminded = []
    processing = processing_milestones()  # paused while a bank transfer for them settles; they wait their turn
    for m in Milestone.select().where(Milestone.next_reminder_at <= now):
        if m.id in processing:
            continue
        number = m.reminders_sent + 1
        settled = m.paid >= m.amount
        following = now + policy.every if number < policy.most and not settled else None
        with db.atomic():
            won = (Milestone.update(reminders_sent=m.reminders_sent if settled else number, next_reminder_at=following)
                   .where(Milestone.id == m.id, Milestone.reminders_sent == m.reminders_sent,
                          Milestone.next_reminder_at == m.next_reminder_at).execute())
            if not won or settled:
                continue
            job = m.job
            view = job_view(job, now)
            milestone = next(v for v in view.milestones if v.id == m.id)
            body = customer_texts.reminder(view, milestone, ctx.links.url(job.ref, now), number)
            text_customer(job.customer, job, "reminder", body, key=f"milestone:{m.id}:reminder:{number}", now=now)
            reminded.append(m.id)
    return reminded


def warn_unpaid_before_events(ctx: Context) -> list[int]:
    """Tell the contractor, a day ahead, of an event whose "before" payment is still open; returns event ids.

    One query, bounded by what is new since this process's last turn: the unpaid "before" milestones of the
    events whose day-ahead moment came since then (they start after what the last turn read, and within a
    day), not yet warned of at their present time (a moved event is warned of again). So a turn reads a few
    minutes' worth of events, not the whole next day. The whole next day is read on a process's first turn
    (what came while no process ran), after the clock went back, and every WHOLE_DAY_EVERY. A change to a
    job's facts within the day (an event moved closer, a plan sent, a price raised) warns from its own use
    case at once (`warn_of_job`); the hourly whole read finds what changed without one (a refund reopening a
    "before" payment).
    """
    now = ctx.clock()
    database = db.obj
    with _lock:
        last = _reads.get(database)
    whole = last is None or now + GATE_NOTICE < last.until or now - last.whole_at >= WHOLE_DAY_EVERY
    after = now if whole else max(now, last.until)
    warned = _warn(_unpaid_before(Event.scheduled_at > after, Event.scheduled_at <= now + GATE_NOTICE), now)
    with _lock:  # only once read and warned: a turn that failed leaves its slice to the next one
        last = _reads.get(database)
        if whole or last is None:
            _reads[database] = _Read(until=now + GATE_NOTICE, whole_at=now)
        else:
            last.until = max(last.until, now + GATE_NOTICE)
    return warned


def warn_of_job(job: Job, now: datetime) -> list[int]:
    """Warn the job's contractor of its events within a day whose "before" payment is open; returns event ids.

    For a use case that has just changed the job's facts (through `core.due.announce_due`), in its transaction:
    the turns read only events newly within a day, so the change is looked at here.
    """
    return _warn(_unpaid_before(Event.job == job, Event.scheduled_at > now, Event.scheduled_at <= now + GATE_NOTICE),
                 now)


def forget_what_was_read() -> None:
    """As a restart does: every process's next turn reads the whole next day again (a benchmark after seeding)."""
    with _lock:
        _reads.clear()


@dataclass
class _Read:
    """What this process's turns have read of one database."""

    until: datetime  # every event starting by then was looked at (its day-ahead moment came)
    whole_at: datetime  # when the whole next day was last read


_reads: "WeakKeyDictionary[Database, _Read]" = WeakKeyDictionary()  # by database: a test opens one of its own
_lock = threading.Lock()  # the loop's jobs may turn in two threads at once


def _unpaid_before(*window) -> list[Milestone]:
    """The unpaid "before" milestones of the events in `window` not yet warned of at their time, by event."""
    return list(
        Milestone.select(Milestone, Event).join(Event).join(Job)
        .where(Milestone.trigger_kind == TriggerKind.BEFORE.value, Milestone.paid < Milestone.amount,
               Event.state == "scheduled", *window,
               Event.warned_for.is_null() | (Event.warned_for != Event.scheduled_at),
               Job.state == "active", Job.plan_sent_at.is_null(False))
        .order_by(Event.id)
    )


def _warn(unpaid: list[Milestone], now: datetime) -> list[int]:
    """Warn of each event of `unpaid` that no other process has just warned of, each in its own transaction."""
    warned = []
    for event_id, milestones in groupby(unpaid, key=lambda m: m.event_id):
        milestones = list(milestones)
        event = milestones[0].event
        with db.atomic():
            if not Event.update(warned_for=event.scheduled_at).where(
                    Event.id == event.id, Event.warned_for.is_null() | (Event.warned_for != event.scheduled_at)
            ).execute():
                continue  # another process warned of it a moment ago
            job = event.job
            key = f"event:{event.id}:gate:{event.scheduled_at:%Y%m%dT%H%M}"
            tell_contractor(job.contractor, job, "before_event_unpaid", _gate_notice(job, event, milestones, now),
                            key, now)
        warned.append(event_id)
    return warned


def _gate_notice(job: Job, event: Event, unpaid: list[Milestone], now: datetime) -> str:
    at = None if event.date_only else event.scheduled_at.astimezone(ZoneInfo(job.contractor.timezone))  # a day: no time
    return contractor_texts.unpaid_before_event(job_view(job, now), event.name, at,
                                                sum(m.amount - m.paid for m in unpaid))


def next_moment(now: datetime) -> datetime | None:
    """The next moment something falls due, is reminded of or warned of: when the loop should wake."""
    next_event = _earliest(Event.scheduled_at, Event.state == "scheduled", Event.scheduled_at > now + GATE_NOTICE)
    moments = [
        _earliest(Milestone.due_at, Milestone.announced_at.is_null(), Milestone.due_at > now),
        _earliest(Milestone.next_reminder_at, Milestone.next_reminder_at > now),
        next_event - GATE_NOTICE if next_event else None,
        _earliest(ChangeOrder.remind_at, ChangeOrder.state == "pending", ChangeOrder.remind_at > now),
        _earliest(ChangeOrder.expires_at, ChangeOrder.state == "pending", ChangeOrder.expires_at > now),
    ]
    return min((m for m in moments if m), default=None)


def _earliest(field, *conditions) -> datetime | None:
    row = field.model.select(field).where(*conditions).order_by(field).first()
    return getattr(row, field.name) if row else None
