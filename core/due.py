"""When milestones fall due, and announcing them to the customer exactly once.

A milestone's due moment follows from its trigger and the job's facts. It is
stored (``Milestone.due_at``) only once the plan is sent, so the scheduler's
scan reads just the milestones a customer has been told about.
"""

from contextlib import nullcontext
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from core.context import Context, ReminderPolicy
from core.jobs import jobs_with_parties
from core.journal import CustomerText, text_customers
from core.plan import Trigger, TriggerKind
from core.reminders import warn_of_job
from core.views import job_views, trigger_of
from core.wording import customer_texts
from storage.database import returns_rows
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


BATCH = 200  # milestones a transaction of the scan claims, reads, words and queues (see docs/benchmarks.md)


def announce_due(ctx: Context, job: Job, now: datetime) -> list[int]:
    """Queue the payment-due text for every milestone of the job that has just fallen due; returns the ids announced.

    What a use case calls right after changing a job's facts: the scan's own batch, of one job. Safe to run any
    number of times, from any process (see `_announce`). As the job's facts just changed, its contractor is also
    warned at once of an event within a day whose "before" payment is open (`core.reminders.warn_of_job`).
    """
    announced = _announce(ctx, Milestone.job == job, now, jobs=[job])
    warn_of_job(job, now)
    return announced


def announce_all_due(ctx: Context) -> list[int]:
    """Announce every milestone that has fallen due by now, in batches of BATCH: the scheduler's scan.

    Reads the (announced_at, due_at) index: only milestones not yet announced whose moment has come are looked
    at, however many milestones exist. The ids are read whole first, so no cursor stays open across the writes
    (on SQLite an open read would make another writer's commit abort them). Each batch is its own transaction:
    a crash loses at most the batch in flight, which the next scan announces.
    """
    now = ctx.clock()
    due = sorted(m for (m,) in Milestone.select(Milestone.id).where(*_fallen_due(now)).tuples())
    announced = []
    for start in range(0, len(due), BATCH):
        announced += _announce(ctx, Milestone.id.in_(due[start:start + BATCH]), now)
    return announced


def _fallen_due(now: datetime) -> tuple:
    return Milestone.announced_at.is_null(), Milestone.due_at <= now, Milestone.paid < Milestone.amount


def _announce(ctx: Context, scope, now: datetime, jobs: list[Job] | None = None) -> list[int]:
    """Claim the milestones of `scope` that have fallen due and queue their texts, in one transaction.

    Exactly once: the claim is a conditional UPDATE that only one caller can win for a milestone (and the
    outbox's dedupe key would refuse a second text anyway), and the texts are queued in the same transaction,
    so a crash leaves both undone. Texts are written from one read of the claimed milestones' jobs (`jobs` when
    the caller has them) and queued in two inserts: the consent texts they need, then the texts.
    """
    with nullcontext() if db.in_transaction() else db.atomic():  # a use case's transaction is one already
        claimed = _claim(scope, now, ctx.reminders)
        if not claimed:
            return []
        if jobs is None:
            jobs = list(jobs_with_parties().where(Job.id.in_(sorted(set(claimed.values())))).order_by(Job.id))
        texts = []
        for job, view in zip(jobs, job_views(jobs, now)):
            link = ctx.links.url(job.ref, now)
            texts += [CustomerText(job, view, "payment_due", customer_texts.payment_due(view, milestone, link),
                                   key=f"milestone:{milestone.id}:due")
                      for milestone in view.milestones if milestone.id in claimed]
        text_customers(texts, now)
    return sorted(claimed)


def _claim(scope, now: datetime, policy: ReminderPolicy) -> dict[int, int]:
    """Mark the milestones of `scope` that have fallen due as announced; returns those this call won, id -> job id.

    One UPDATE ... RETURNING. On PostgreSQL the rows are taken with FOR UPDATE SKIP LOCKED: a milestone another
    transaction is claiming (or changing) is left to it, without waiting and without a deadlock between two
    scans taking overlapping batches. Without RETURNING (SQLite before 3.35) the milestones are read, then
    updated, in the same transaction: a SQLite write transaction is the only writer from its BEGIN IMMEDIATE
    until its end (a deferred one fails to write rather than write past a newer commit), so what was read is
    exactly what the update changes, as the row count confirms.
    """
    values = dict(announced_at=now, next_reminder_at=now + policy.first if policy.most else None)
    claimable = Milestone.select(Milestone.id, Milestone.job).where(scope, *_fallen_due(now))
    if db.for_update:
        claimable = claimable.for_update(skip_locked=True)
    if returns_rows():
        update = Milestone.update(**values).where(Milestone.id.in_(claimable.select(Milestone.id)))
        return dict(update.returning(Milestone.id, Milestone.job).tuples().execute())
    claimed = dict(claimable.tuples())
    if claimed:
        changed = Milestone.update(**values).where(Milestone.id.in_(list(claimed)), *_fallen_due(now)).execute()
        if changed != len(claimed):  # cannot happen, as said above; if it ever did, nothing is queued
            raise RuntimeError(f"claimed {changed} of the {len(claimed)} milestones read in the same transaction")
    return claimed

