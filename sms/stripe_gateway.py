"""Stripe, for the payment page and the worker: Checkout Sessions, webhook events in our words, missed events.

`STRIPE_API_BASE_URL` points every call at another Stripe-compatible API (a
local one in sandbox/ for the tests and the sandbox). Errors never carry the secret key: stripe-python does
not put it in messages, and the process's log redacts it anyway.
"""

import json
import logging
from datetime import datetime

import stripe

from core.checkout import PaymentsUnavailable, Session, SessionRequest
from core.provider_events import (
    ACCOUNT,
    DISPUTED,
    EXPIRED,
    FAILED,
    IGNORED,
    PAID,
    PROCESSING,
    REFUNDED,
    PaymentNews,
)
from core.wording.language import _

log = logging.getLogger(__name__)

CHECKOUT_ORIGIN = "https://checkout.stripe.com"  # Stripe's hosted checkout (the local Stripe serves its own)
STRIPE_METHODS = {"card": "card", "bank": "us_bank_account"}
OUR_METHODS = {stripe_name: ours for ours, stripe_name in STRIPE_METHODS.items()}
EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded",
          "checkout.session.async_payment_failed", "checkout.session.expired", "charge.refunded",
          "charge.dispute.created", "account.updated")  # what the webhook endpoint is to be sent (README)


class StripeGateway:
    def __init__(self, secret_key: str, *, api_base_url: str | None = None, timeout: float | None = None):
        base = api_base_url.rstrip("/") if api_base_url else None
        # retries are safe with an idempotency key, and ride out a double tap's 409 "request in progress"
        self.client = stripe.StripeClient(secret_key, base_addresses={"api": base, "connect": base} if base else {},
                                          max_network_retries=2, http_client=stripe.new_default_http_client(
                                              timeout=timeout) if timeout else None)  # stripe's default: 80 s

    def create_session(self, request: SessionRequest) -> Session:
        params = {
            "mode": "payment",
            "line_items": [{"price_data": {"currency": request.currency.lower(), "unit_amount": request.amount,
                                           "product_data": {"name": request.description}}, "quantity": 1}],
            "payment_method_types": [STRIPE_METHODS[m] for m in request.methods],
            "client_reference_id": request.job_ref,
            "metadata": {"checkout": str(request.checkout_id), "job": request.job_ref,
                         "milestones": ",".join(map(str, request.milestone_ids))},
            "payment_intent_data": {"metadata": {"checkout": str(request.checkout_id), "job": request.job_ref}},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": int(request.expires_at.timestamp()),
        }
        options = {"idempotency_key": request.key}
        if request.account:
            options["stripe_account"] = request.account
        try:
            session = self.client.v1.checkout.sessions.create(params=params, options=options)
        except stripe.StripeError as error:
            log.warning("Stripe refused a checkout session for %s: %s %s", request.job_ref,
                        error.__class__.__name__, error.user_message or "")
            raise PaymentsUnavailable(_("We could not open the payment page just now. Nothing was charged. "
                                        "Please try again in a few minutes.")) from error
        return Session(session.id, session.url)

    def create_account(self, contractor_id: int, business_name: str) -> str:
        """A connected Express account for a contractor (Connect); its id."""
        account = self._call(self.client.v1.accounts.create, {
            "type": "express", "business_profile": {"name": business_name[:100]},
            "metadata": {"contractor": str(contractor_id)}})
        return account.id

    def onboarding_link(self, account: str, *, refresh_url: str, return_url: str) -> str:
        return self._call(self.client.v1.account_links.create, {
            "account": account, "refresh_url": refresh_url, "return_url": return_url,
            "type": "account_onboarding"}).url

    def can_take_payments(self, account: str) -> bool:
        return bool(self._call(self.client.v1.accounts.retrieve, account).charges_enabled)

    def _call(self, method, *args):
        try:
            return method(*args)
        except stripe.StripeError as error:
            log.warning("Stripe refused %s: %s", method.__qualname__, error.__class__.__name__)
            raise PaymentsUnavailable(
                _("Stripe did not answer just now; please try again in a few minutes.")) from error

    def missed_events(self, since: datetime, account: str | None = None) -> list[dict]:
        """Events since `since` (a connected `account`'s) that Stripe has not delivered to us, oldest first: pending,
        or refused by every attempt. The worker applies them, once like any other; PaymentsUnavailable when Stripe
        does not answer."""
        params = {"delivery_success": False, "created": {"gte": int(since.timestamp())}, "limit": 100}
        try:
            listed = self.client.v1.events.list(params=params, options={"stripe_account": account} if account else {})
            events = [json.loads(json.dumps(event.to_dict())) for event in listed.auto_paging_iter()]
        except stripe.StripeError as error:  # its message can run to several lines: the class and status say enough
            status = f", HTTP {error.http_status}" if error.http_status else ""
            raise PaymentsUnavailable(f"Stripe did not list its undelivered events ({error.__class__.__name__}"
                                      f"{status})") from error
        return events[::-1]  # Stripe lists the newest first


def verified_event(payload: bytes, signature: str, secrets: tuple[str, ...]) -> dict:
    """The event in a webhook delivery, if Stripe signed these exact bytes recently with one of `secrets` (the
    account endpoint's and, with Connect, the Connect endpoint's); ValueError otherwise."""
    if isinstance(secrets, str):  # one secret passed bare would be looped over letter by letter: "w" would sign
        raise TypeError("verified_event takes a tuple of secrets")
    for secret in secrets:
        try:
            return stripe.Webhook.construct_event(payload, signature, secret).to_dict()  # tolerance: 5 minutes
        except stripe.SignatureVerificationError:
            continue
    raise ValueError("bad signature")


def news_of(event: dict) -> PaymentNews:
    """A Stripe event in our words."""
    kind, thing = event.get("type", ""), event.get("data", {}).get("object", {}) or {}
    metadata = thing.get("metadata") or {}
    checkout = metadata.get("checkout", "")
    common = {"event_id": event["id"], "checkout_id": int(checkout) if checkout.isdigit() and len(checkout) < 12
              else None, "job_ref": metadata.get("job") or thing.get("client_reference_id")}
    if kind.startswith("checkout.session."):
        methods = thing.get("payment_method_types") or []
        method = OUR_METHODS.get(methods[0], "") if len(methods) == 1 else ""
        common.update(reference=thing.get("payment_intent"), method=method)
        if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            if thing.get("payment_status") == "paid":
                return PaymentNews(kind=PAID, amount=int(thing.get("amount_total") or 0), **common)
            if kind == "checkout.session.completed" and thing.get("payment_status") == "unpaid":
                return PaymentNews(kind=PROCESSING, **common)
        elif kind == "checkout.session.async_payment_failed":
            return PaymentNews(kind=FAILED, reason="the bank refused the transfer", **common)
        elif kind == "checkout.session.expired":
            return PaymentNews(kind=EXPIRED, **common)
    elif kind == "charge.refunded":
        return PaymentNews(kind=REFUNDED, amount=int(thing.get("amount_refunded") or 0),
                           reference=thing.get("payment_intent"), **common)
    elif kind == "account.updated":
        return PaymentNews(kind=ACCOUNT, account=thing.get("id"), ready=bool(thing.get("charges_enabled")), **common)
    elif kind == "charge.dispute.created":
        return PaymentNews(kind=DISPUTED, amount=int(thing.get("amount") or 0), reference=thing.get("payment_intent"),
                           reason=thing.get("reason") or "", **common)
    return PaymentNews(kind=IGNORED, **common)
