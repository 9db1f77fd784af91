"""Reading a job from storage into the plain views that messages, pages and chats render."""

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from core.plan import Trigger, TriggerKind
from core.status import ChangeOrderView, EventView, JobView, MilestoneView, milestone_status
from storage.models import (
    AuditRecord,
    ChangeOrder,
    Checkout,
    Contractor,
    Customer,
    Event,
    Job,
    LineItem,
    Milestone,
    Payment,
)


def trigger_of(milestone: Milestone, events: dict[int, Event]) -> Trigger:
    event = events.get(milestone.event_id)
    return Trigger(
        kind=TriggerKind(milestone.trigger_kind),
        event=event.name if event else None,
        lead=timedelta(minutes=milestone.lead_minutes),
        net_days=milestone.net_days,
        on=milestone.trigger_date,
    )


def job_total(job: Job) -> int:
    # int(): PostgreSQL sums a BIGINT column as NUMERIC, which arrives as a Decimal
    return int(LineItem.select(fn.COALESCE(fn.SUM(LineItem.amount), 0)).where(LineItem.job == job).scalar())


def job_paid(job: Job) -> int:
    return int(Payment.select(fn.COALESCE(fn.SUM(Payment.amount), 0)).where(Payment.job == job).scalar())


# What a view shows of events and milestones, read as named tuples (half the cost of models) with the names the
# models give their columns (job_id, event_id): `trigger_of` and `milestone_view` take either.
_EVENT_COLUMNS = (Event.id, Event.job.alias("job_id"), Event.name, Event.scheduled_at, Event.state, Event.done_at,
                  Event.date_only)
_MILESTONE_COLUMNS = (Milestone.id, Milestone.job.alias("job_id"), Milestone.position, Milestone.label,
                      Milestone.percent, Milestone.fixed, Milestone.retainage, Milestone.trigger_kind,
                      Milestone.event.alias("event_id"), Milestone.lead_minutes, Milestone.net_days,
                      Milestone.trigger_date, Milestone.amount, Milestone.paid, Milestone.due_at)


def job_view(job: Job, now: datetime) -> JobView:
    """Everything about one job, as of `now`: the batch of one of `job_views`."""
    return job_views([job], now)[0]


def job_views(jobs: Sequence[Job], now: datetime) -> list[JobView]:
    """Everything about each of `jobs`, as of `now`, in their order: one read of each table for all of them.

    Eight queries whatever the number of jobs (events, milestones, line items, the sums paid, checkouts in
    processing, pending change orders; customers and contractors, unless read with the jobs as
    `core.jobs.jobs_with_parties` reads them). Meant for a batch of hundreds: each query names every job.
    """
    if not jobs:
        return []
    ids = [job.id for job in jobs]
    events, milestones, lines = defaultdict(dict), defaultdict(list), defaultdict(list)
    for event in (Event.select(*_EVENT_COLUMNS).where(Event.job.in_(ids)).order_by(Event.position, Event.id)
                  .namedtuples()):
        events[event.job_id][event.id] = event
    for milestone in (Milestone.select(*_MILESTONE_COLUMNS).where(Milestone.job.in_(ids))
                      .order_by(Milestone.position, Milestone.id).namedtuples()):
        milestones[milestone.job_id].append(milestone)
    for job_id, *line in (LineItem.select(LineItem.job, LineItem.id, LineItem.description, LineItem.amount)
                          .where(LineItem.job.in_(ids)).order_by(LineItem.position, LineItem.id).tuples()):
        lines[job_id].append(tuple(line))
    # int(): PostgreSQL sums a BIGINT column as NUMERIC, which arrives as a Decimal
    paid = {job_id: int(total) for job_id, total in Payment.select(Payment.job, fn.SUM(Payment.amount))
            .where(Payment.job.in_(ids)).group_by(Payment.job).tuples()}
    processing = defaultdict(set)
    for job_id, milestone_ids in (Checkout.select(Checkout.job, Checkout.milestones)
                                  .where(Checkout.state == "processing", Checkout.job.in_(ids)).tuples()):
        processing[job_id].update(int(m) for m in json.loads(milestone_ids))
    pending = {}
    for order in ChangeOrder.select().where(ChangeOrder.job.in_(ids), ChangeOrder.state == "pending").order_by(
            ChangeOrder.id):
        pending.setdefault(order.job_id, order)
    customers = _parties(jobs, Job.customer, Customer)
    contractors = _parties(jobs, Job.contractor, Contractor)
    return [_view(job, customers[job.customer_id], contractors[job.contractor_id],
                  events[job.id], milestones[job.id], lines[job.id], paid.get(job.id, 0),
                  processing[job.id], pending.get(job.id), now) for job in jobs]


def _parties(jobs: Sequence[Job], field, model) -> dict:
    """Each job's customer (or contractor) by id: those read with their job as they are, the rest in one query,
    kept on their jobs as reading `job.customer` would keep them (no second read for the caller)."""
    known = {getattr(job, field.name).id: getattr(job, field.name) for job in jobs if field.name in job.__rel__}
    missing = {getattr(job, field.column_name) for job in jobs} - set(known)
    if missing:
        known |= {row.id: row for row in model.select().where(model.id.in_(missing))}
        for job in jobs:
            job.__rel__.setdefault(field.name, known[getattr(job, field.column_name)])
    return known


def _view(job: Job, customer: Customer, contractor: Contractor, events: dict[int, Event], milestones: list[Milestone],
          lines: list[tuple[int, str, int]], paid: int, processing: set[int], pending: ChangeOrder | None,
          now: datetime) -> JobView:
    """One job's view from its rows; `lines`: (id, description, amount) of its line items, in order."""
    plan_sent = job.plan_sent_at is not None
    items = tuple((description, amount) for _, description, amount in lines)
    return JobView(
        ref=job.ref,
        title=job.title,
        state=job.state,
        currency=job.currency,
        locale=job.locale,
        timezone=customer.timezone,
        customer_name=customer.name,
        customer_phone=customer.phone,
        business_name=contractor.business_name,
        business_phone=contractor.phone,
        payment_instructions=contractor.payment_instructions,
        total=sum(amount for _, amount in items),
        paid=paid,
        now=now,
        plan_sent=plan_sent,
        milestones=tuple(milestone_view(m, events, now, plan_sent, m.id in processing) for m in milestones),
        events=tuple(
            EventView(name=e.name, scheduled_at=e.scheduled_at, state=e.state, done_at=e.done_at,
                      date_only=e.date_only, id=e.id)
            for e in events.values()
        ),
        items=items,
        item_ids=tuple(line_id for line_id, _, _ in lines),
        language=customer.language,
        opted_out_at=customer.opted_out_at,
        change_order=change_order_view(pending) if pending else None,
        business_language=contractor.language,
    )


def change_order_view(order: ChangeOrder) -> ChangeOrderView:
    return ChangeOrderView(number=order.number, state=order.state, reason=order.reason, old_total=order.old_total,
                           new_total=order.new_total, sent_at=order.sent_at, expires_at=order.expires_at,
                           answered_at=order.answered_at, answered_via=order.answered_via,
                           applied_because=order.applied_because)


def processing_milestones() -> set[int]:
    """The milestones a started bank transfer is paying, of every job (`job_views` reads its jobs' own): on their
    way, not yet paid."""
    checkouts = Checkout.select(Checkout.milestones).where(Checkout.state == "processing")
    return {int(m) for (ids,) in checkouts.tuples() for m in json.loads(ids)}


def milestone_view(m: Milestone, events: dict[int, Event], now: datetime, plan_sent: bool,
                   processing: bool = False) -> MilestoneView:
    event = events.get(m.event_id)
    return MilestoneView(
        id=m.id,
        position=m.position,
        label=m.label,
        trigger=trigger_of(m, events),
        percent=m.percent,
        fixed=m.fixed,
        amount=m.amount,
        paid=m.paid,
        due_at=m.due_at,
        # nothing is due to the customer before they have seen the plan
        status=milestone_status(m.amount, m.paid, m.due_at if plan_sent else None, now, processing),
        event_at=event.scheduled_at if event else None,
        processing=processing,
        retainage=m.retainage,
    )


@dataclass(frozen=True)
class PriceChangeRecord:
    at: datetime
    reason: str
    old_total: int
    new_total: int
    approved_via: str | None = None  # sms, page: the customer approved it as a change order
    because: str = ""  # the contractor applied it without the customer's approval, saying why


def price_history(job: Job) -> list[PriceChangeRecord]:
    """Every change of the job's price, oldest first, from its audit records."""
    records = (AuditRecord.select().where(AuditRecord.job == job, AuditRecord.kind == "price_changed")
               .order_by(AuditRecord.id))
    history = []
    for record in records:
        old, new = json.loads(record.old), json.loads(record.new)
        history.append(PriceChangeRecord(record.at, new.get("reason", ""), old["total"], new["total"],
                                         new.get("approved_via"), new.get("because", "")))
    return history
