"""Recording payments and applying them to milestones.

A payment goes to the milestone the payer named, if any, then to the earliest
open milestones; what no milestone can take is credit owed to the customer.
A provider's reference makes recording idempotent: a retried webhook finds
the payment it already recorded.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from peewee import Case, IntegrityError, fn

from core.context import Actor, Context
from core.errors import Conflict, InvalidInput
from core.jobs import load_job
from core.journal import audit, tell_contractor, text_customer
from core.reminders import warn_of_job
from core.status import JobView
from core.views import job_view
from core.wording import contractor_texts, customer_texts
from core.wording.language import _
from storage.models import Job, Milestone, Payment, PaymentPart, db


@dataclass(frozen=True)
class PaymentResult:
    job: JobView
    payment_id: int
    amount: int
    applied: tuple[tuple[str, int], ...]  # (milestone label, amount) in the order applied
    duplicate: bool = False  # the provider's reference was recorded before: nothing new written


def record_payment(ctx: Context, actor: Actor, ref: str, amount: int, method: str, *,
                   reference: str | None = None, milestone: str | None = None) -> PaymentResult:
    """Record money received on a job; the customer gets a receipt, the contractor a note if they did not record it."""
    if amount <= 0:
        raise InvalidInput(_("A payment must be more than zero. Example: /paid J-7K2Q 1000 cash"))
    method = " ".join(method.lower().split())[:32] or "other"
    now = ctx.clock()
    try:
        with db.atomic():
            job = load_job(actor, ref, lock=True)
            if reference and (earlier := Payment.get_or_none(Payment.reference == reference)):
                return _duplicate(earlier, job, now)
            named = _named_milestone(job, milestone) if milestone else None
            payment = Payment.create(job=job, amount=amount, method=method, reference=reference,
                                     milestone=named, received_at=now, actor=str(actor))
            applied = apply_payments(job, now, first=named)
            audit(job, actor, "payment_recorded", now, new={
                "payment": payment.id, "amount": amount, "method": method, "reference": reference,
                "applied": applied,
            })
            view = job_view(job, now)
            link = ctx.links.url(job.ref, now)
            text_customer(job.customer, job, "receipt", customer_texts.receipt(view, amount, method, link),
                          key=f"payment:{payment.id}:receipt", now=now)
            if actor.kind != "contractor" or view.credit:
                tell_contractor(job.contractor, job, "payment_received",
                                contractor_texts.payment_received(view, amount, method),
                                key=f"payment:{payment.id}:notice", now=now)
            return PaymentResult(view, payment.id, amount, tuple(applied))
    except IntegrityError:
        # another process recorded the same provider reference a moment ago
        earlier = Payment.get_or_none(Payment.reference == reference) if reference else None
        if earlier is None:
            raise
        return _duplicate(earlier, load_job(actor, ref), now)


def apply_payments(job: Job, now: datetime, first: Milestone | None = None) -> list[tuple[str, int]]:
    """Put what each payment has not yet applied on open milestones, earliest first.

    The one the payer named comes first; then those already due, in plan
    order (the customer pays what they were asked for — a payment that went to
    a later milestone would leave the asked-for one open and reminded of);
    then the rest in plan order. Also called after a price change, so credit
    left over from earlier payments settles any amount the change opened.
    Returns (label, amount) in the order applied.
    """
    applied_by_payment = _applied(job)
    refunded = _refunded(job)
    milestones = payment_order(Milestone.select().where(Milestone.job == job), now, first)
    applied = []
    for payment in Payment.select().where(Payment.job == job, Payment.refund_of.is_null()).order_by(Payment.id):
        rest = payment.amount - refunded.get(payment.id, 0) - applied_by_payment.get(payment.id, 0)
        for m in milestones:
            take = min(rest, m.amount - m.paid)
            if take <= 0:
                continue
            PaymentPart.create(payment=payment, milestone=m, amount=take)
            Milestone.update(paid=Milestone.paid + take).where(Milestone.id == m.id).execute()
            m.paid += take
            rest -= take
            applied.append((m.label, take))
    return applied


def payment_order(milestones: Iterable[Milestone], now: datetime, first: Milestone | None = None) -> list[Milestone]:
    """The order money goes to a job's milestones (apply_payments): the one named, those due, then the rest."""
    return sorted(milestones, key=lambda m: (first is None or m.id != first.id, not (m.due_at and m.due_at <= now),
                                             m.position))


def unapply_refund(ctx: Context, actor: Actor, job: Job, payment: Payment, *, refunded_in_all: int) -> int:
    """Record money given back on `payment`, from the provider's running total; returns what is newly refunded.

    The refund is a negative payment of its own. It comes first out of what the
    payment left unapplied (credit), then off the milestones it paid, the last
    paid first: those are open again and owed. A total already recorded (an
    older event arriving late) records nothing.
    """
    recorded = _refunded(job).get(payment.id, 0)
    newly = min(refunded_in_all, payment.amount) - recorded
    if newly <= 0:
        return 0
    now = ctx.clock()
    Payment.create(job=job, amount=-newly, method="refund", reference=f"{payment.reference}:refunded:{refunded_in_all}",
                   refund_of=payment, received_at=now, actor=str(actor))
    unapplied = payment.amount - recorded - _applied(job).get(payment.id, 0)
    left = max(newly - max(unapplied, 0), 0)
    reopened = []
    for part in payment.parts.order_by(PaymentPart.id.desc()):
        take = min(left, part.amount)
        if take <= 0:
            continue
        PaymentPart.update(amount=PaymentPart.amount - take).where(PaymentPart.id == part.id).execute()
        # owed again: a milestone already due is reminded of again, from the start of its cadence
        Milestone.update(paid=Milestone.paid - take, reminders_sent=0, next_reminder_at=Case(
            None, [(Milestone.due_at <= now, now + ctx.reminders.first)], None)).where(
            Milestone.id == part.milestone_id).execute()
        reopened.append((part.milestone.label, take))
        left -= take
    PaymentPart.delete().where(PaymentPart.payment == payment, PaymentPart.amount <= 0).execute()
    audit(job, actor, "refund_recorded", now, new={"payment": payment.id, "amount": newly, "reopened": reopened})
    if reopened:  # a "before" payment open again on an event's eve: the turns read only what is newly within a day
        warn_of_job(job, now)
    return newly


def _applied(job: Job) -> dict[int, int]:
    """What each payment of the job has applied to milestones, by payment id."""
    return {
        payment: int(total)  # a Decimal on PostgreSQL
        for payment, total in PaymentPart.select(PaymentPart.payment, fn.SUM(PaymentPart.amount))
        .join(Payment).where(Payment.job == job).group_by(PaymentPart.payment).tuples()
    }


def _refunded(job: Job) -> dict[int, int]:
    """What was given back on each payment of the job, by payment id (positive amounts)."""
    return {
        payment: -int(total)
        for payment, total in Payment.select(Payment.refund_of, fn.SUM(Payment.amount))
        .where(Payment.job == job, Payment.refund_of.is_null(False)).group_by(Payment.refund_of).tuples()
    }


def _named_milestone(job: Job, name: str) -> Milestone:
    """A milestone by its number in the plan (1, #2) or the start of its label."""
    milestones = list(Milestone.select().where(Milestone.job == job).order_by(Milestone.position))
    wanted = name.strip().lstrip("#").lower()
    if wanted.isdigit() and len(wanted) <= 3 and 1 <= int(wanted) <= len(milestones):  # not int("9" * 5000)
        return milestones[int(wanted) - 1]
    matches = [m for m in milestones if m.label.lower().startswith(wanted)]
    if len(matches) != 1:
        if not milestones:
            raise InvalidInput(_("Which payment is {name}? Name it by number. This job's payments: none yet").format(
                name=repr(name)))
        listed = ", ".join(f"{i}. {m.label}" for i, m in enumerate(milestones, 1))
        raise InvalidInput(_("Which payment is {name}? Name it by number. This job's payments: {payments}").format(
            name=repr(name), payments=listed))
    return matches[0]


def _duplicate(earlier: Payment, job: Job, now) -> PaymentResult:
    if earlier.job_id != job.id:
        raise Conflict(_("The payment reference {reference} was already used for another job.").format(
            reference=earlier.reference))
    view = job_view(job, now)
    parts = [(p.milestone.label, p.amount) for p in earlier.parts.order_by(PaymentPart.id)]
    return PaymentResult(view, earlier.id, earlier.amount, tuple(parts), duplicate=True)


