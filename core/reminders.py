"""The time-driven messages: overdue reminders to customers, and the day-before warning to contractors."""

from datetime import datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from core.context import Context
from core.journal import tell_contractor, text_customer
from core.plan import TriggerKind
from core.views import job_view, processing_milestones
from core.wording import contractor_texts, customer_texts
from storage.models import ChangeOrder, Event, Job, Milestone, db

GATE_NOTICE = timedelta(hours=24)  # how long before an event its contractor hears of an unpaid "before" payment


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

    One query, whatever the number of events: the unpaid "before" milestones of
    the events starting within a day that were not yet warned of at their
    present time (a moved event is warned of again).
    """
    now = ctx.clock()
    unpaid = list(
        Milestone.select(Milestone, Event).join(Event).join(Job)
        .where(Milestone.trigger_kind == TriggerKind.BEFORE.value, Milestone.paid < Milestone.amount,
               Event.state == "scheduled", Event.scheduled_at > now, Event.scheduled_at <= now + GATE_NOTICE,
               Event.warned_for.is_null() | (Event.warned_for != Event.scheduled_at),
               Job.state == "active", Job.plan_sent_at.is_null(False))
        .order_by(Event.id)
    )
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
