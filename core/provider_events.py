"""What the payment provider tells us, applied exactly once: paid, processing, failed, expired, refunded, disputed.

The provider delivers each event at least once, out of order, and for days;
the web app's webhook and the worker's reconciliation may both bring the same
one. Each is applied in one transaction with the record of its id, so a
second delivery finds the record and changes nothing. A payment is recorded
through the same use case as a contractor's /paid, once per provider
reference, for the amount actually received: money is never dropped or
rounded, and what exceeds what is open is credit.
"""

import json
from dataclasses import dataclass

from peewee import IntegrityError

from core.context import Actor, Context
from core.journal import audit, tell_contractor, text_customer
from core.payment_accounts import account_ready
from core.payments import record_payment, unapply_refund
from core.reach import reach
from core.views import job_view
from core.wording import contractor_texts, customer_texts
from storage.models import Checkout, Job, Payment, ProviderEvent, db

PROVIDER = Actor.system("stripe")
PAID, PROCESSING, FAILED, EXPIRED, REFUNDED, DISPUTED, ACCOUNT, IGNORED = (
    "paid", "processing", "failed", "expired", "refunded", "disputed", "account", "ignored")
METHOD_WORDS = {"card": "card", "bank": "bank transfer"}


@dataclass(frozen=True)
class PaymentNews:
    """One provider event, in our words (the provider's adapter translates its own)."""

    event_id: str
    kind: str  # one of the constants above
    checkout_id: int | None = None  # ours, from the session's metadata
    job_ref: str | None = None
    amount: int = 0  # PAID: received; REFUNDED: refunded so far on the payment, in all; DISPUTED: disputed
    reference: str | None = None  # the provider's id of the payment (a PaymentIntent)
    method: str = ""  # card, bank
    reason: str = ""  # a dispute's reason, a failure's
    account: str | None = None  # ACCOUNT: a contractor's connected account, and whether it can take payments
    ready: bool = False


def apply_news(ctx: Context, news: PaymentNews) -> str:
    """Apply one event once; returns what it did ("duplicate" when it was applied before)."""
    now = ctx.clock()
    try:
        with db.atomic():
            record = ProviderEvent.create(event_id=news.event_id, kind=news.kind, received_at=now, outcome="")
            outcome = _apply(ctx, news)
            ProviderEvent.update(outcome=outcome).where(ProviderEvent.id == record.id).execute()
            return outcome
    except IntegrityError:
        if ProviderEvent.get_or_none(ProviderEvent.event_id == news.event_id) is None:
            raise  # not the event record: a real conflict
        return "duplicate"


def _apply(ctx: Context, news: PaymentNews) -> str:
    if news.kind == IGNORED:
        return IGNORED
    if news.kind == ACCOUNT:
        return ACCOUNT if account_ready(ctx, news.account or "", news.ready) else "unchanged"
    checkout = Checkout.get_or_none(Checkout.id == news.checkout_id) if news.checkout_id else None
    job = checkout.job if checkout else _job_of(news)
    if job is None:
        audit(None, PROVIDER, "payment_event_unmatched", ctx.clock(), new=_said(news))
        return "unknown_job"
    if news.kind == PAID:
        return _paid(ctx, job, checkout, news)
    if news.kind == PROCESSING:
        return _processing(ctx, job, checkout, news)
    if news.kind == FAILED:
        return _failed(ctx, job, checkout, news)
    if news.kind == EXPIRED:
        _move(checkout, ("creating", "open"), EXPIRED, ctx)
        return EXPIRED
    if news.kind == REFUNDED:
        return _refunded(ctx, job, news)
    if news.kind == DISPUTED:
        return _disputed(ctx, job, news)
    audit(job, PROVIDER, "payment_event_unknown", ctx.clock(), new=_said(news))
    return IGNORED


def _paid(ctx: Context, job: Job, checkout: Checkout | None, news: PaymentNews) -> str:
    """Money arrived: recorded as received (whatever the price is now), once per provider reference."""
    _move(checkout, ("creating", "open", "processing", "failed", "expired", "broken"), PAID, ctx,
          payment_intent=news.reference)
    if job.state != "active":
        audit(job, PROVIDER, "payment_on_cancelled_job", ctx.clock(), new=_said(news))
    method = METHOD_WORDS.get(news.method or (checkout.method if checkout else ""), "online")
    record_payment(ctx, PROVIDER, job.ref, news.amount, method, reference=news.reference)
    return PAID


def _processing(ctx: Context, job: Job, checkout: Checkout | None, news: PaymentNews) -> str:
    """A bank transfer started: its milestones are on their way, and nobody is reminded of them."""
    if not _move(checkout, ("creating", "open", "expired", "broken"), PROCESSING, ctx, payment_intent=news.reference):
        return "stale"  # it settled (or failed) before this event arrived
    now = ctx.clock()
    view = job_view(job, now)
    audit(job, PROVIDER, "bank_transfer_started", now, new={"checkout": checkout.id, "amount": checkout.amount})
    tell_contractor(job.contractor, job, "bank_transfer_started",
                    contractor_texts.bank_transfer_started(view, checkout.amount),
                    key=f"checkout:{checkout.id}:processing",
                    now=now)
    return PROCESSING


def _failed(ctx: Context, job: Job, checkout: Checkout | None, news: PaymentNews) -> str:
    """The bank transfer did not go through: its milestones are open again, and both sides hear it plainly."""
    if not _move(checkout, ("creating", "open", "processing", "expired", "broken"), FAILED, ctx):
        return "stale"
    now = ctx.clock()
    view = job_view(job, now)
    audit(job, PROVIDER, "bank_transfer_failed", now, new={"checkout": checkout.id, "reason": news.reason})
    link = ctx.links.url(job.ref, now)
    text_customer(job.customer, job, "bank_transfer_failed",
                  customer_texts.bank_transfer_failed(view, checkout.amount, link),
                  key=f"checkout:{checkout.id}:failed", now=now)
    tell_contractor(job.contractor, job, "bank_transfer_failed",
                    contractor_texts.bank_transfer_failed(view, checkout.amount, reach(view, ctx.quiet_hours)),
                    key=f"checkout:{checkout.id}:failed:notice", now=now)
    return FAILED


def _refunded(ctx: Context, job: Job, news: PaymentNews) -> str:
    """Money went back: a refund in the ledger for what is newly refunded; what it reopens is owed again."""
    payment = Payment.get_or_none(Payment.reference == news.reference) if news.reference else None
    if payment is None:
        audit(job, PROVIDER, "refund_unmatched", ctx.clock(), new=_said(news))
        return "unknown_payment"
    refund = unapply_refund(ctx, PROVIDER, job, payment, refunded_in_all=news.amount)
    if refund == 0:
        return "stale"  # an older event: what it says was refunded is already recorded
    now = ctx.clock()
    view = job_view(job, now)
    key = f"refund:{payment.id}:{news.amount}"
    text_customer(job.customer, job, "refund", customer_texts.refunded(view, refund, ctx.links.url(job.ref, now)),
                  key=key, now=now)
    tell_contractor(job.contractor, job, "refund", contractor_texts.refunded(view, refund), key=f"{key}:notice",
                    now=now)
    return REFUNDED


def _disputed(ctx: Context, job: Job, news: PaymentNews) -> str:
    """The customer's bank disputes a payment: the contractor hears at once, and nothing else changes yet."""
    now = ctx.clock()
    audit(job, PROVIDER, "payment_disputed", now, new=_said(news))
    tell_contractor(job.contractor, job, "payment_disputed",
                    contractor_texts.payment_disputed(job_view(job, now), news.amount, news.reason),
                    key=f"dispute:{news.event_id}", now=now)
    return DISPUTED


def _job_of(news: PaymentNews) -> Job | None:
    """The job an event without our checkout names: by the payment it is about, else by its reference."""
    payment = Payment.get_or_none(Payment.reference == news.reference) if news.reference else None
    return payment.job if payment else Job.get_or_none(Job.ref == (news.job_ref or ""))


def _move(checkout: Checkout | None, sources: tuple[str, ...], target: str, ctx: Context, **fields) -> bool:
    """Move a checkout on from one of `sources`; False when it was somewhere else (an event out of order)."""
    if checkout is None:
        return False
    changed = {name: value for name, value in fields.items() if value}
    return bool(Checkout.update(state=target, updated_at=ctx.clock(), **changed)
                .where(Checkout.id == checkout.id, Checkout.state.in_(sources)).execute())


def _said(news: PaymentNews) -> dict:
    return json.loads(json.dumps(news.__dict__))
