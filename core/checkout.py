"""Paying from the link: what a customer can pay now, and a provider's checkout session for it.

The session is made when the customer taps Pay, for what is open *then*: no
stored price, so no price change or partial payment can leave a stale amount
behind. The checkout row is written before the provider is asked, and its id
travels in the session's metadata, so a webhook that overtakes the provider's
own answer still finds what it pays for. The row's key is the provider's
idempotency key, and an identical tap while a session is still open reuses
it: a double tap makes one session.

The provider is asked outside any transaction (the job is not kept locked
while a slow network answers).
"""

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.context import Actor, Context
from core.errors import Conflict, InvalidInput, PaystageError
from core.jobs import load_job, require_active
from core.journal import audit
from core.status import JobView, MilestoneView
from core.views import job_view
from core.wording.language import _
from storage.models import Checkout, Job, db

SESSION_LIFETIME = timedelta(hours=1)  # Stripe allows 30 minutes to 24 hours; the link itself never expires
REUSE_MARGIN = timedelta(minutes=10)  # a session about to expire is not handed out again
CHOICES = ("due", "next", "all")
METHODS = ("card", "bank")
BANK_CURRENCIES = frozenset({"USD"})  # Stripe's us_bank_account (ACH) takes US dollars only
SYSTEM = Actor.system("page")


class PaymentsUnavailable(PaystageError):
    """The payment provider could not be reached or refused: nothing was charged, the customer may try again."""


@dataclass(frozen=True)
class PayOption:
    """One thing the customer can pay now: what is due, the next payment, or the whole balance."""

    choice: str  # due, next, all
    amount: int
    milestones: tuple[MilestoneView, ...]


@dataclass(frozen=True)
class SessionRequest:
    """What the provider is asked for; `key` makes asking twice safe."""

    key: str
    checkout_id: int
    job_ref: str
    amount: int
    currency: str
    methods: tuple[str, ...]  # card, bank: the first is offered first
    description: str
    milestone_ids: tuple[int, ...]
    success_url: str
    cancel_url: str
    expires_at: datetime
    account: str | None = None


@dataclass(frozen=True)
class Session:
    id: str
    url: str


class Gateway(Protocol):
    def create_session(self, request: SessionRequest) -> Session:
        """A hosted checkout page for `request`; raises PaymentsUnavailable when the provider cannot make one."""


def pay_options(job: JobView) -> tuple[PayOption, ...]:
    """What the page offers: what is due now (or, with nothing due, the next payment), and the whole balance."""
    options = []
    if job.due_now:
        options.append(PayOption("due", sum(m.open_amount for m in job.due_now), job.due_now))
    elif job.upcoming:
        options.append(PayOption("next", job.upcoming[0].open_amount, job.upcoming[:1]))
    payable = tuple(m for m in job.milestones if m.open_amount > 0 and not m.processing)
    if payable and (not options or len(payable) > len(options[0].milestones)):
        options.append(PayOption("all", sum(m.open_amount for m in payable), payable))
    return tuple(options)


def pay_methods(job: JobView, amount: int, bank_first_above: int) -> tuple[str, ...]:
    """Card and, where the currency allows it, bank transfer; bank first for large amounts (about $5 against 3%)."""
    if job.currency not in BANK_CURRENCIES:
        return ("card",)
    return ("bank", "card") if amount > bank_first_above else ("card", "bank")


def start_checkout(ctx: Context, gateway: Gateway, ref: str, choice: str, method: str, *, page_url: str,
                   account: str | None = None) -> str:
    """The provider's checkout URL for what `choice` pays now by `method`; the customer is sent there."""
    if choice not in CHOICES or method not in METHODS:
        raise InvalidInput(_("Choose what to pay and how, then tap Pay."))
    now = ctx.clock()
    with db.atomic():
        job = load_job(SYSTEM, ref, lock=True)
        require_active(job)
        view = job_view(job, now)
        option = next((o for o in pay_options(view) if o.choice == choice), None)
        if option is None:  # paid meanwhile, on its way by bank transfer, or a stale form
            raise Conflict(_("There is nothing to pay on this job right now.") if not pay_options(view) else
                           _("That payment is not open any more. Your page shows what you can pay now."))
        if method == "bank" and view.currency not in BANK_CURRENCIES:
            raise InvalidInput(_("Bank transfer is not available for this currency. Pay by card."))
        checkout = _reusable(job, option, method, now) or _new_checkout(job, option, method, account, now)
        if checkout.state == "open":
            return checkout.url
        request = SessionRequest(
            key=checkout.key, checkout_id=checkout.id, job_ref=job.ref, amount=checkout.amount,
            currency=checkout.currency, methods=(method,), description=_description(view, option),
            milestone_ids=tuple(json.loads(checkout.milestones)), success_url=f"{page_url}?checkout={checkout.id}",
            cancel_url=page_url, expires_at=checkout.expires_at, account=account)
    try:
        session = gateway.create_session(request)
    except PaymentsUnavailable:
        Checkout.update(state="broken", updated_at=ctx.clock()).where(
            Checkout.id == checkout.id, Checkout.state == "creating").execute()
        raise
    with db.atomic():
        Checkout.update(session_id=session.id, url=session.url, updated_at=ctx.clock()).where(
            Checkout.id == checkout.id).execute()
        # a webhook may have moved it on already (paid, processing): only a checkout still being made becomes open
        Checkout.update(state="open").where(Checkout.id == checkout.id, Checkout.state == "creating").execute()
    return session.url


@dataclass(frozen=True)
class CheckoutState:
    """How a customer's checkout went, for the page they come back to."""

    state: str  # creating, open, processing, paid, failed, ... (Checkout.state)
    amount: int  # what the customer was asked for at the checkout: the price may have changed since


def checkout_state(ref: str, checkout_id: str) -> CheckoutState | None:
    """How the customer's checkout on job `ref` went, for the page they come back to; None if it is not theirs."""
    if not checkout_id.isdigit() or len(checkout_id) > 12:
        return None
    row = (Checkout.select(Checkout.state, Checkout.amount).join(Job)
           .where(Checkout.id == int(checkout_id), Job.ref == ref).first())
    return CheckoutState(row.state, row.amount) if row else None


def _reusable(job: Job, option: PayOption, method: str, now: datetime) -> Checkout | None:
    """A checkout for exactly this, still being made or open long enough to pay in: a double tap, or a way back."""
    return (Checkout.select()
            .where(Checkout.job == job, Checkout.amount == option.amount, Checkout.method == method,
                   Checkout.milestones == _ids(option), Checkout.state.in_(("creating", "open")),
                   Checkout.expires_at > now + REUSE_MARGIN)
            .order_by(Checkout.id.desc()).first())


def _new_checkout(job: Job, option: PayOption, method: str, account: str | None, now: datetime) -> Checkout:
    checkout = Checkout.create(job=job, key=secrets.token_urlsafe(24), milestones=_ids(option), amount=option.amount,
                               currency=job.currency, method=method, account=account, created_at=now,
                               expires_at=now + SESSION_LIFETIME, updated_at=now)
    audit(job, SYSTEM, "checkout_started", now, new={"checkout": checkout.id, "amount": option.amount,
                                                     "method": method, "choice": option.choice})
    return checkout


def _ids(option: PayOption) -> str:
    return json.dumps([m.id for m in option.milestones])


def _description(job: JobView, option: PayOption) -> str:
    """The line on the provider's page: the business, the job and what this pays."""
    paid_for = ", ".join(m.label for m in option.milestones) if option.choice != "all" else _("the whole balance")
    return f"{job.business_name}: {job.title} ({job.ref}), {paid_for}"[:250]
