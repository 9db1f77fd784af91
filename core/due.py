"""When milestones fall due, and announcing them to the customer exactly once.

A milestone's due moment follows from its trigger and the job's facts. It is
stored (``Milestone.due_at``) only once the plan is sent, so the scheduler's
scan reads just the milestones a customer has been told about.
"""

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from core.context import Context
from core.journal import text_customer
from core.plan import Trigger, TriggerKind
from core.views import job_view, trigger_of
from core.wording import customer_texts
from storage.models import Event, Job, Milestone, db


def due_time(trigger: Trigger, *, sent_at: datetime | None, event: Event | None, tz: str) -> datetime | None:
    """The moment a milestone falls due, or None while its trigger cannot say."""
    if trigger.kind is TriggerKind.NOW:
        return sent_at
    if trigger.kind is TriggerKind.DATE:
        return datetime.combine(trigger.on, time(0), ZoneInfo(tz)).astimezone(timezone.utc)
    if trigger.kind is TriggerKind.AFTER:
        return event.done_at + timedelta(days=trigger.net_days) if event.done_at else None
    # BEFORE: a lead time before the event; at the latest when the event is done early
    moments = [t for t in (event.scheduled_at and event.scheduled_at - trigger.lead, event.done_at) if t]
    return min(moments, default=None)


def refresh_due_times(job: Job) -> None:
    """Store each open milestone's due moment from the job's current facts (a sent plan only)."""
    if job.plan_sent_at is None:
        return
    events = {e.id: e for e in Event.select().where(Event.job == job)}
    for m in Milestone.select().where(Milestone.job == job, Milestone.announced_at.is_null()):
        due_at = due_time(trigger_of(m, events), sent_at=job.plan_sent_at, event=events.get(m.event_id),
                          tz=job.customer.timezone)
        if due_at != m.due_at:
            Milestone.update(due_at=due_at).where(Milestone.id == m.id).execute()


def announce_due(ctx: Context, job: Job, now: datetime) -> list[int]:
    """Queue the payment-due text for every milestone of the job that has just fallen due.

    Safe to run any number of times, from any process: a milestone is claimed
    by a conditional update that only one caller can win, and the message's
    dedupe key would refuse a second copy anyway. Returns the ids announced.
    """
    candidates = Milestone.select(Milestone.id).where(
        Milestone.job == job,
        Milestone.announced_at.is_null(),
        Milestone.due_at <= now,
        Milestone.paid < Milestone.amount,
    )
    policy = ctx.reminders
    claimed = [
        m.id
        for m in candidates
        if Milestone.update(announced_at=now, next_reminder_at=now + policy.first if policy.most else None)
        .where(Milestone.id == m.id, Milestone.announced_at.is_null()).execute()
    ]
    if claimed:
        view = job_view(job, now)
        link = ctx.links.url(job.ref, now)
        for milestone in view.milestones:
            if milestone.id in claimed:
                text_customer(job.customer, job, "payment_due", customer_texts.payment_due(view, milestone, link),
                              key=f"milestone:{milestone.id}:due", now=now)
    return claimed


def announce_all_due(ctx: Context) -> list[int]:
    """Announce every milestone of every job that has fallen due by now: the scheduler's scan.

    Reads the (announced_at, due_at) index: only milestones not yet announced
    whose moment has come are looked at, however many milestones exist.
    """
    now = ctx.clock()
    # the job ids first, read whole: then jobs by primary key (no join for a planner to misjudge), and no
    # cursor left open across the writes below (on SQLite it would make another writer's commit abort them)
    job_ids = [job_id for (job_id,) in Milestone.select(Milestone.job).where(
        Milestone.announced_at.is_null(), Milestone.due_at <= now, Milestone.paid < Milestone.amount
    ).distinct().tuples()]
    announced = []
    for job in list(Job.select().where(Job.id.in_(job_ids))) if job_ids else []:
        with db.atomic():
            announced += announce_due(ctx, job, now)
    return announced
