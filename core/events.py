"""Use cases for the events of a job: add, reschedule, mark done, cancel.

Marking an event done makes its "after" milestones due in the same
transaction (the customer's payment-due text is queued with it); moving an
event moves the due moments of its "before" milestones and tells the customer.

An event is scheduled at a moment ("Dec 3 9am") or on a day with no time of
day ("Dec 3", "tomorrow"). A day is stored as its start in the customer's
timezone, flagged date-only, and shown as the day alone. A "before" payment
falls due its lead time before that start: 24 hours before "Dec 17" is the
start of Dec 16 where the customer is, so it is asked for the day before (the
text itself waits for the end of quiet hours), never on the day of the work.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from core.context import Actor, Context
from core.due import announce_due, refresh_due_times
from core.errors import Conflict, InvalidInput
from core.jobs import load_job, require_active
from core.journal import audit, text_customer
from core.matching import match_event
from core.plan import TriggerKind
from core.status import EventView, JobView
from core.views import job_view
from core.wording import customer_texts
from core.wording.language import _, ngettext
from storage.models import Event, Job, Milestone, db


@dataclass(frozen=True)
class EventResult:
    job: JobView
    event: str
    announced: tuple[int, ...] = ()  # milestones whose payment-due text was queued


def add_event(ctx: Context, actor: Actor, ref: str, name: str, scheduled_at: datetime | date | None) -> EventResult:
    """Add an event to the job, at a moment, on a day with no time of day (a `date`), or not scheduled yet."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(_("The event needs a name. Example: /event J-7K2Q Measurement, tomorrow 9am"))
    now = ctx.clock()
    with db.atomic():
        job = load_job(actor, ref, lock=True)
        require_active(job)
        if any(e.name.lower() == name.lower() for e in job.events):
            raise Conflict(_("{ref} already has an event called {event}. To change its date use /move.").format(
                ref=job.ref, event=name))
        position = Event.select().where(Event.job == job).count()
        at, date_only = stored_moment(scheduled_at, job.customer.timezone)
        Event.create(job=job, position=position, name=name[:80], scheduled_at=at, date_only=date_only)
        audit(job, actor, "event_added", now, new={"name": name, "scheduled_at": at, "date_only": date_only})
        return EventResult(job_view(job, now), name)


def reschedule_event(ctx: Context, actor: Actor, ref: str, name: str, scheduled_at: datetime | date) -> EventResult:
    """Move an event to a moment or to a day with no time of day (a `date`); its "before" payments move with it."""
    now = ctx.clock()
    with db.atomic():
        job, event = _open_event(actor, ref, name)
        at, date_only = stored_moment(scheduled_at, job.customer.timezone)
        Event.update(scheduled_at=at, date_only=date_only).where(Event.id == event.id).execute()
        record = audit(job, actor, "event_moved", now,
                       old={"name": event.name, "scheduled_at": event.scheduled_at, "date_only": event.date_only},
                       new={"name": event.name, "scheduled_at": at, "date_only": date_only})
        refresh_due_times(job)
        view = job_view(job, now)
        if job.plan_sent_at:
            moved = EventView(name=event.name, scheduled_at=at, state=event.state, date_only=date_only)
            text_customer(job.customer, job, "event_moved", customer_texts.event_moved(view, moved),
                          key=f"event:{event.id}:moved:{record.id}", now=now)
        return EventResult(view, event.name, tuple(announce_due(ctx, job, now)))


def mark_event_done(ctx: Context, actor: Actor, ref: str, name: str) -> EventResult:
    now = ctx.clock()
    with db.atomic():
        job, event = _open_event(actor, ref, name)
        Event.update(state="done", done_at=now).where(Event.id == event.id).execute()
        audit(job, actor, "event_done", now, old={"name": event.name, "state": event.state},
              new={"name": event.name, "state": "done"})
        refresh_due_times(job)
        announced = tuple(announce_due(ctx, job, now))
        return EventResult(job_view(job, now), event.name, announced)


def cancel_event(ctx: Context, actor: Actor, ref: str, name: str, milestones_to: str | None = None) -> EventResult:
    """Cancel an event. Its open milestones move to another event, or become due now ("now").

    Money is never left tied to an event that will not happen: while such
    milestones exist the contractor must say where they go.
    """
    now = ctx.clock()
    with db.atomic():
        job, event = _open_event(actor, ref, name)
        tied = [m for m in Milestone.select().where(Milestone.event == event) if m.paid < m.amount]
        if tied and not milestones_to:
            labels = ", ".join(m.label for m in tied)
            raise Conflict(ngettext(
                "{payments} is tied to {event}. Say where it goes: another event, or now. "
                "Example: cancel {event}, move to Installation",
                "{payments} are tied to {event}. Say where they go: another event, or now. "
                "Example: cancel {event}, move to Installation",
                len(tied)).format(payments=labels, event=event.name))
        target = None
        if milestones_to and milestones_to.strip().lower() != "now":
            others = [e.name for e in job.events if e.id != event.id and e.state != "cancelled"]
            target = Event.get(Event.job == job, Event.name == match_event(milestones_to, others))
        change = {"event": target} if target else {"event": None, "trigger_kind": TriggerKind.NOW.value}
        ids = [m.id for m in tied]
        Milestone.update(**change).where(Milestone.id.in_(ids)).execute()
        Event.update(state="cancelled").where(Event.id == event.id).execute()
        refresh_due_times(job)
        if job.plan_sent_at and target is None:
            # due now: from the moment of cancelling, not from when the plan was sent
            Milestone.update(due_at=now).where(Milestone.id.in_(ids)).execute()
        audit(job, actor, "event_cancelled", now, old={"name": event.name, "state": event.state},
              new={"name": event.name, "state": "cancelled", "milestones_to": target.name if target else "now",
                   "milestones": [m.label for m in tied]})
        announced = tuple(announce_due(ctx, job, now))
        return EventResult(job_view(job, now), event.name, announced)


def open_before(job: JobView, event: EventView) -> list[EventView]:
    """The events of `job` scheduled before `event` and still to happen (neither done nor cancelled), soonest
    first: marking `event` done before them makes money due after it fall due first. An event not scheduled has
    no place in that order: none is before it, and it is before none. Two events on one day, one of them on the
    day alone, are in no order either (by the day, where the customer is)."""
    if event.scheduled_at is None:
        return []
    where = ZoneInfo(job.timezone)

    def before(other: EventView) -> bool:
        if other.date_only or event.date_only:
            return other.scheduled_at.astimezone(where).date() < event.scheduled_at.astimezone(where).date()
        return other.scheduled_at < event.scheduled_at

    earlier = [e for e in job.events if e.state == "scheduled" and e.scheduled_at is not None
               and (e.id, e.name) != (event.id, event.name) and before(e)]
    return sorted(earlier, key=lambda e: e.scheduled_at)


def stored_moment(when: datetime | date | None, tz: str) -> tuple[datetime | None, bool]:
    """The moment an event is stored at, and whether it is date-only: a day is its start in the customer's
    timezone `tz` (see the module docstring for what that makes of a "before" payment)."""
    if when is None or isinstance(when, datetime):  # a datetime is a date too: asked first
        return when, False
    return datetime.combine(when, time(0), ZoneInfo(tz)).astimezone(timezone.utc), True


def _open_event(actor: Actor, ref: str, name: str) -> tuple[Job, Event]:
    job = load_job(actor, ref, lock=True)
    require_active(job)
    events = list(Event.select().where(Event.job == job, Event.state == "scheduled").order_by(Event.position))
    event = next(e for e in events if e.name == match_event(name, [e.name for e in events]))
    return job, event
