"""Reading a job from storage into the plain views that messages, pages and chats render."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from core.plan import Trigger, TriggerKind
from core.status import ChangeOrderView, EventView, JobView, MilestoneView, milestone_status
from storage.models import AuditRecord, ChangeOrder, Checkout, Event, Job, LineItem, Milestone, Payment


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


def job_view(job: Job, now: datetime) -> JobView:
    """Everything about one job, as of `now`."""
    events = {e.id: e for e in Event.select().where(Event.job == job).order_by(Event.position)}
    milestones = Milestone.select().where(Milestone.job == job).order_by(Milestone.position)
    plan_sent = job.plan_sent_at is not None
    customer, contractor = job.customer, job.contractor
    lines = tuple(LineItem.select(LineItem.id, LineItem.description, LineItem.amount).where(LineItem.job == job)
                  .order_by(LineItem.position).tuples())
    items = tuple((description, amount) for _, description, amount in lines)
    processing = processing_milestones(job)
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
        paid=job_paid(job),
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
        change_order=change_order_view(pending) if (pending := ChangeOrder.get_or_none(
            ChangeOrder.job == job, ChangeOrder.state == "pending")) else None,
        business_language=contractor.language,
    )


def change_order_view(order: ChangeOrder) -> ChangeOrderView:
    return ChangeOrderView(number=order.number, state=order.state, reason=order.reason, old_total=order.old_total,
                           new_total=order.new_total, sent_at=order.sent_at, expires_at=order.expires_at,
                           answered_at=order.answered_at, answered_via=order.answered_via,
                           applied_because=order.applied_because)


def processing_milestones(job: Job | None = None) -> set[int]:
    """The milestones a started bank transfer is paying (of one job, or of all): on their way, not yet paid."""
    checkouts = Checkout.select(Checkout.milestones).where(Checkout.state == "processing")
    if job is not None:
        checkouts = checkouts.where(Checkout.job == job)
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
