"""Paying from the page: the Pay button's form (a plain POST, no script) and Stripe's webhook.

A tap on Pay makes a checkout session for what is open then and sends the
customer to it (303). Stripe's webhook is verified over the raw body before
anything is read; what it says is applied once per event id, and an error
while applying it answers 500 so that Stripe delivers it again.
"""

import logging
from dataclasses import dataclass

from flask import Blueprint, current_app, redirect, render_template, request

from core.checkout import Gateway, PaymentsUnavailable, start_checkout
from core.errors import NotFound, PaystageError
from core.payment_accounts import account_ready
from core.provider_events import apply_news
from core.wording.language import N_, _, speaking
from sms.pages import browsers_language, link_error, linked_job
from sms.stripe_gateway import news_of, verified_event
from storage.models import Contractor, Job

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)
NOT_ONLINE = N_("Paying online is not available for this job. The page shows how to pay.")


@dataclass(frozen=True)
class OnlinePayments:
    """How the page takes money, when it does (the app's PAYMENTS; None: the contractor's own instructions)."""

    gateway: Gateway
    webhook_secrets: tuple[str, ...]  # whichever of them signed a delivery
    bank_first_above: int  # minor units
    connect: bool  # each contractor's customers pay into the contractor's connected account
    checkout_origin: str  # where Pay sends the customer: the page's form may go there and nowhere else

    def account_of(self, job: Job) -> str | None:
        return job.contractor.payment_account if self.connect else None

    def takes_payments_for(self, job: Job) -> bool:
        """With Connect, only a contractor whose account can take payments; the others keep their instructions."""
        return not self.connect or job.contractor.payment_account_ready


@bp.post("/p/<token>/pay")
def pay(token: str):
    """The customer tapped Pay: off to the provider's checkout for what they chose."""
    ctx, payments = current_app.config["PAYSTAGE_CONTEXT"], current_app.config["PAYMENTS"]
    try:
        job = linked_job(token)
    except NotFound as error:
        return link_error(error)
    page_url = f"{current_app.config['PUBLIC_BASE_URL']}/p/{token}"
    with speaking(job.customer.language):
        if payments is None or not payments.takes_payments_for(job):
            return _refused(_(NOT_ONLINE), page_url, 404)
        try:
            url = start_checkout(ctx, payments.gateway, job.ref, request.form.get("choice", ""),
                                 request.form.get("method", ""), page_url=page_url, account=payments.account_of(job))
        except PaymentsUnavailable as error:
            return _refused(str(error), page_url, 503)
        except PaystageError as error:
            return _refused(str(error), page_url, 409)
    return redirect(url, 303)


@bp.post("/stripe/webhook")
def stripe_webhook():
    """An event from Stripe: applied once if Stripe signed exactly these bytes; 400 and nothing read if not."""
    payments = current_app.config["PAYMENTS"]
    if payments is None:
        return "", 404
    try:
        event = verified_event(request.get_data(), request.headers.get("Stripe-Signature", ""),
                               payments.webhook_secrets)
    except ValueError:
        return "", 400
    try:
        outcome = apply_news(current_app.config["PAYSTAGE_CONTEXT"], news_of(event))
    except Exception:
        log.exception("applying Stripe event %s failed; Stripe will deliver it again", event.get("id"))
        return "", 500
    log.info("Stripe event %s (%s): %s", event.get("id"), event.get("type"), outcome)
    return "", 200


@bp.get("/connect/back/<token>")
def connect_back(token: str):
    """A contractor back from the provider's onboarding: their page takes payments once the provider says so."""
    ctx, payments = current_app.config["PAYSTAGE_CONTEXT"], current_app.config["PAYMENTS"]
    try:
        who = ctx.links.job_ref(token, ctx.clock())  # "C12": the contractor /payments made this link for
    except NotFound:
        who = ""
    contractor = Contractor.get_or_none(Contractor.id == int(who[1:])) if who[:1] == "C" and who[1:].isdigit() else None
    if payments is None or not payments.connect or contractor is None or not contractor.payment_account:
        with speaking(browsers_language()):
            return render_template("connect.html", ready=None), 404
    try:
        ready = payments.gateway.can_take_payments(contractor.payment_account)
    except PaymentsUnavailable:
        ready = contractor.payment_account_ready
    account_ready(ctx, contractor.payment_account, ready)
    with speaking(contractor.language):
        return render_template("connect.html", ready=ready)


@bp.get("/connect/again")
def connect_again():
    """The provider's onboarding link was used or expired: a new one comes from /payments."""
    with speaking(browsers_language()):
        return render_template("connect.html", ready=False, expired=True)


def _refused(message: str, page_url: str, status: int):
    return render_template("pay_refused.html", message=message, page_url=page_url), status
