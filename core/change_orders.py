"""Change orders: a price change the customer approves before any amount changes (docs/design.md, "Change orders").

The contractor previews a change (core.pricing) and sends it. The customer is
texted the old and new price, what changes and the new amounts, and answers
YES or NO by text, or Approve or Decline on the page. Only an approval writes
the new amounts; until then the plan stands as it was. The answer is kept as
evidence: when, by which channel, from which phone and message or page
request, and the exact words the customer answered to.

One change order per job waits for an answer at a time. Another one either
replaces it or waits its turn, and is sent, worked out again on the job as it
then stands, once the one before it is answered. Unanswered, a change order is
reminded once, halfway, and expires at the end of Context.change_order_days,
the contractor told. The contractor may apply a change without an answer only
by saying why; the reason is kept and shown on the page.

Before the plan is sent the customer has seen no amount, so a price change is
simply written.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from core.context import Actor, Context
from core.errors import Conflict, InvalidInput, PaystageError
from core.jobs import load_job, require_active
from core.journal import audit, tell_contractor, text_customer
from core.pricing import PriceChange, WorkedOut, work_out, write_price_change
from core.reach import reach
from core.status import ChangeOrderView, JobView, PriceChangeView
from core.views import change_order_view, job_view
from core.wording import contractor_texts, customer_texts
from core.wording.language import _
from storage.models import ChangeOrder, Job, db

MAX_BECAUSE = 200  # characters of the contractor's reason for applying without an answer


@dataclass(frozen=True)
class Evidence:
    """How the customer answered."""

    via: str  # sms, page
    phone: str  # the customer's, as the job has it
    message_id: str | None = None  # the provider's id of the answering text
    request: str = ""  # the page request: address, browser, the link it came by


@dataclass(frozen=True)
class Proposed:
    """What became of a change the contractor sent: written (a draft plan), sent, or waiting its turn."""

    outcome: str  # written, sent, waiting
    job: JobView  # as it stands after
    change: PriceChangeView
    number: int | None = None  # the change order's, unless written


@dataclass(frozen=True)
class Answered:
    """What became of the customer's answer."""

    # approved, declined; expired (just now); closed (expired, or the contractor applied, replaced or withdrew it);
    # nothing (no change order waits for an answer); moved (the page showed amounts that have changed since)
    outcome: str
    job: JobView
    order: ChangeOrderView | None = None


def propose_price_change(ctx: Context, actor: Actor, ref: str, change: PriceChange, *, replace: bool = False,
                         wait: bool = False) -> Proposed:
    """Send the change to the customer for approval; with a change order already waiting for their answer,
    `replace` it or `wait` until it is answered."""
    now = ctx.clock()
    with db.atomic():
        job = load_job(actor, ref, lock=True)
        require_active(job)
        worked = work_out(job, change, now)
        if job.plan_sent_at is None:
            write_price_change(ctx, actor, job, worked, now)
            return Proposed("written", job_view(job, now), worked.view)
        before = job_view(job, now)
        if before.paid and not before.remaining and not before.credit:
            raise Conflict(_("{ref} is paid in full, so there is nothing left to ask {customer} to approve. For more "
                             "work start a new job with /newjob, or if they agreed to this one another way, apply it "
                             "without approval, saying why.").format(ref=job.ref, customer=before.customer_name))
        pending = _pending(job)
        if pending and not (replace or wait):
            raise Conflict(contractor_texts.change_order_in_the_way(before, change_order_view(pending)))
        order = _create(job, actor, worked, now)
        if pending and wait:
            audit(job, actor, "change_order_waiting", now, new={"number": order.number})
            return Proposed("waiting", job_view(job, now), worked.view, order.number)
        if pending:
            _close(pending, "replaced", now, via="telegram", by=str(actor))
            audit(job, actor, "change_order_replaced", now, new={"number": pending.number, "by": order.number})
        _send(ctx, job, order, worked, now, replacing=pending)
        return Proposed("sent", job_view(job, now), worked.view, order.number)


def apply_price_change(ctx: Context, actor: Actor, ref: str, change: PriceChange | None = None, *,
                       because: str = "") -> PriceChangeView:
    """Apply `change` (or the change order waiting for the customer's answer) now, without their approval: only
    saying why ("signed on paper"), which is kept and shown to the customer. A draft plan needs no reason."""
    now = ctx.clock()
    because = " ".join(because.split())[:MAX_BECAUSE]
    with db.atomic():
        job = load_job(actor, ref, lock=True)
        require_active(job)
        pending = _pending(job)
        if change is None and pending is None:
            raise Conflict(_("No change order of {ref} is waiting for an answer. To change the price use /price, "
                             "/add or /remove.").format(ref=job.ref))
        worked = work_out(job, change or _change_of(pending), now)
        if job.plan_sent_at is None:
            write_price_change(ctx, actor, job, worked, now)
            return worked.view
        if not because:
            raise InvalidInput(_("Say why it applies without the customer's approval, for the record. Example: "
                                 "/apply {ref} signed on paper").format(ref=job.ref))
        order = pending if change is None else _create(job, actor, worked, now)
        if pending and pending is not order:
            _close(pending, "replaced", now, via="telegram", by=str(actor))
        _close(order, "applied", now, via="telegram", by=str(actor), applied_because=because)
        record = write_price_change(ctx, actor, job, worked, now, change_order=order.number, because=because)
        view = job_view(job, now)
        link = ctx.links.url(job.ref, now)
        text_customer(job.customer, job, "plan_changed",
                      customer_texts.plan_changed(view, worked.view, link, because=because),
                      key=f"job:{job.id}:price:{record.id}", now=now)
        _send_next(ctx, job, now)
        return worked.view


def answer_by_text(ctx: Context, phone: str, ref: str, approve: bool, message_id: str) -> Answered:
    """YES or NO from the customer's phone, about the job's change order waiting for an answer."""
    now = ctx.clock()
    with db.atomic():
        job = load_job(Actor.customer(phone), ref, lock=True)
        order = _pending(job)
        if order is None:
            return _unanswered(job, now)
        evidence = Evidence("sms", phone, message_id=message_id)
        return _answer(ctx, job, order, approve, evidence, order.text, now)


def answer_on_page(ctx: Context, ref: str, number: int, approve: bool, shown_digest: str, request: str) -> Answered:
    """Approve or Decline on the page of the signed link (`ref` is the link's job): for change order `number`,
    as the page showed it (`shown_digest`, of the words core.change_orders.shown gave)."""
    now = ctx.clock()
    with db.atomic():
        job = load_job(Actor.system("page"), ref, lock=True)
        order = _pending(job)
        if order is None or order.number != number:
            return _unanswered(job, now, number)
        words = shown(job, order, now)
        if digest(words) != shown_digest:  # the amounts moved since the page was shown: show them again
            return Answered("moved", job_view(job, now), change_order_view(order))
        evidence = Evidence("page", job.customer.phone, request=request[:1000])
        return _answer(ctx, job, order, approve, evidence, words, now)


def waiting_on_page(ctx: Context, ref: str) -> tuple[ChangeOrderView, str, str] | None:
    """The change order of the job `ref` waiting for the customer's answer, the words the page shows about it
    and their digest (the page's form carries it back, so an answer is to the exact words shown); None if none."""
    now = ctx.clock()
    with db.atomic():
        job = load_job(Actor.system("page"), ref)
        order = _pending(job)
        if order is None:
            return None
        words = shown(job, order, now)
        return change_order_view(order), words, digest(words)


def shown(job: Job, order: ChangeOrder, now: datetime) -> str:
    """The words the page shows the customer about a change order waiting for their answer."""
    view = work_out(job, _change_of(order), now).view
    return customer_texts.change_order_page(job_view(job, now), view, change_order_view(order))


def digest(words: str) -> str:
    return hashlib.sha256(words.encode()).hexdigest()[:32]


def remind_and_expire(ctx: Context) -> list[int]:
    """The loop's part: remind once the change orders halfway to expiring, expire those whose time is up.
    Each claimed by a conditional update, so two workers never do one twice. Returns the change orders' ids."""
    now = ctx.clock()
    done = []
    for order_id, ref in (ChangeOrder.select(ChangeOrder.id, Job.ref).join(Job)
                          .where(ChangeOrder.state == "pending", ChangeOrder.expires_at <= now).tuples()):
        with db.atomic():
            job = load_job(Actor.system(), ref, lock=True)
            order = ChangeOrder.get_by_id(order_id)
            if order.state == "pending":  # another worker's turn may have come first
                _expire(ctx, job, order, now)
                done.append(order_id)
    for order in ChangeOrder.select().where(ChangeOrder.state == "pending", ChangeOrder.remind_at <= now):
        with db.atomic():
            claimed = (ChangeOrder.update(remind_at=None)
                       .where(ChangeOrder.id == order.id, ChangeOrder.remind_at.is_null(False)).execute())
            if claimed:
                job = order.job
                text_customer(job.customer, job, "change_order_reminder",
                              customer_texts.change_order_reminder(job_view(job, now), change_order_view(order),
                                                                   ctx.links.url(job.ref, now)),
                              key=f"job:{job.id}:change:{order.number}:reminder", now=now)
                done.append(order.id)
    return done


# --- the steps ---------------------------------------------------------------------------------------------------


def _pending(job: Job) -> ChangeOrder | None:
    return ChangeOrder.get_or_none(ChangeOrder.job == job, ChangeOrder.state == "pending")


def _unanswered(job: Job, now: datetime, number: int | None = None) -> Answered:
    """No change order waits for an answer (or `number` is not the one that waits), and why, with that one (or the
    latest): "closed" when it expired or the contractor applied, replaced or withdrew it; "nothing" when it was
    answered, or there never was one."""
    query = ChangeOrder.select().where(ChangeOrder.job == job)
    order = (query.where(ChangeOrder.number == number) if number else query.order_by(ChangeOrder.number.desc())).first()
    closed = order is not None and order.state in ("expired", "applied", "replaced", "withdrawn")
    return Answered("closed" if closed else "nothing", job_view(job, now), change_order_view(order) if order else None)


def _change_of(order: ChangeOrder) -> PriceChange:
    return PriceChange(order.kind, order.description, order.amount)


def _create(job: Job, actor: Actor, worked: WorkedOut, now: datetime) -> ChangeOrder:
    number = (ChangeOrder.select(fn.COALESCE(fn.MAX(ChangeOrder.number), 0)).where(ChangeOrder.job == job)
              .scalar()) + 1
    change = worked.change
    return ChangeOrder.create(
        job=job, number=number, kind=change.kind, description=change.description[:200], amount=change.amount,
        reason=worked.view.reason[:300], old_total=worked.view.old_total, new_total=worked.view.new_total,
        state="waiting", proposed_by=str(actor), proposed_at=now)


def _send(ctx: Context, job: Job, order: ChangeOrder, worked: WorkedOut, now: datetime,
          replacing: ChangeOrder | None = None) -> None:
    """Text the change order to the customer; from now on it waits for their answer."""
    days = timedelta(days=ctx.change_order_days)
    order.state, order.sent_at, order.expires_at, order.remind_at = "pending", now, now + days, now + days / 2
    order.old_total, order.new_total, order.reason = worked.view.old_total, worked.view.new_total, worked.view.reason
    order.text = customer_texts.change_order(job_view(job, now), worked.view, change_order_view(order),
                                             ctx.links.url(job.ref, now),
                                             replacing=change_order_view(replacing) if replacing else None)
    order.save()
    text_customer(job.customer, job, "change_order", order.text, key=f"job:{job.id}:change:{order.number}", now=now)
    audit(job, Actor.system("change_orders"), "change_order_sent", now,
          new={"number": order.number, "old_total": order.old_total, "new_total": order.new_total,
               "reason": order.reason, "expires_at": order.expires_at})


def _send_next(ctx: Context, job: Job, now: datetime) -> None:
    """The change order waiting its turn, if any, worked out on the job as it now stands and sent; one that no
    longer applies (the line item it removes is gone, the job is paid in full) is withdrawn, the contractor told."""
    for order in ChangeOrder.select().where(ChangeOrder.job == job, ChangeOrder.state == "waiting") \
            .order_by(ChangeOrder.number):
        try:
            worked = work_out(job, _change_of(order), now)
        except PaystageError as error:
            _close(order, "withdrawn", now, via="system", by="system")
            tell_contractor(job.contractor, job, "change_order_withdrawn", contractor_texts.change_order_withdrawn(
                job_view(job, now), change_order_view(order), str(error)),
                key=f"job:{job.id}:change:{order.number}:withdrawn", now=now)
            continue
        _send(ctx, job, order, worked, now)
        view = job_view(job, now)
        said = contractor_texts.change_order_sent(view, change_order_view(order), reach(view, ctx.quiet_hours))
        tell_contractor(job.contractor, job, "change_order_sent", said, key=f"job:{job.id}:change:{order.number}:sent",
                        now=now)
        return


def _answer(ctx: Context, job: Job, order: ChangeOrder, approve: bool, evidence: Evidence, words: str,
            now: datetime) -> Answered:
    if order.expires_at <= now:  # the loop has not come to it yet: it expired all the same
        _expire(ctx, job, order, now)
        return Answered("expired", job_view(job, now), change_order_view(order))
    customer = Actor.customer(evidence.phone)
    if approve:
        try:
            worked = work_out(job, _change_of(order), now)
        except PaystageError:  # the job moved on (paid in full in the meantime): the price stays
            _expire(ctx, job, order, now)
            return Answered("expired", job_view(job, now), change_order_view(order))
    state = "approved" if approve else "declined"
    _close(order, state, now, via=evidence.via, by=evidence.phone, message_id=evidence.message_id,
           request=evidence.request, shown=words)
    audit(job, customer, f"change_order_{state}", now,
          new={"number": order.number, "via": evidence.via, "message_id": evidence.message_id,
               "request": evidence.request})
    if approve:
        write_price_change(ctx, customer, job, worked, now, change_order=order.number, approved_via=evidence.via)
    view = job_view(job, now)
    if approve and view.credit and evidence.via == "page":  # a text's answer says it; the page is not a record
        text_customer(job.customer, job, "credit_owed", customer_texts.credit_owed(view),
                      key=f"job:{job.id}:change:{order.number}:credit", now=now)
    tell_contractor(job.contractor, job, f"change_order_{state}",
                    contractor_texts.change_order_answered(view, change_order_view(order)),
                    key=f"job:{job.id}:change:{order.number}:answer", now=now)
    _send_next(ctx, job, now)
    return Answered(state, job_view(job, now), change_order_view(order))


def _expire(ctx: Context, job: Job, order: ChangeOrder, now: datetime) -> None:
    _close(order, "expired", now, via="system", by="system")
    audit(job, Actor.system("change_orders"), "change_order_expired", now, new={"number": order.number})
    tell_contractor(job.contractor, job, "change_order_expired",
                    contractor_texts.change_order_answered(job_view(job, now), change_order_view(order)),
                    key=f"job:{job.id}:change:{order.number}:answer", now=now)
    _send_next(ctx, job, now)


def _close(order: ChangeOrder, state: str, now: datetime, *, via: str, by: str, **evidence) -> None:
    order.state, order.answered_at, order.answered_via, order.answered_by = state, now, via, by
    order.remind_at = None
    for name, value in evidence.items():
        setattr(order, name, value if value is not None else getattr(order, name))
    order.save()
