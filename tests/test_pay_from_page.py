"""Paying from the page over real HTTP: the app under waitress, the local Stripe's checkout and signed webhooks."""

import json
import re
import time

import pytest

from core.change_orders import apply_price_change
from core.jobs import job_status
from core.pricing import PriceChange
from sandbox.stripe_api import sign
from sms.app import create_app
from storage.models import Checkout, Payment, ProviderEvent
from tests.shop import DOLLARS, Shop, request


@pytest.fixture
def shop(ctx, stripe_api):
    shop = Shop(ctx, stripe_api)
    yield shop
    shop.close()


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def milestone(ctx, contractor, ref, index: int):
    return job_status(ctx, contractor, ref).milestones[index]


def test_the_page_offers_pay_buttons_for_what_is_due_and_the_balance(shop, removal_due):
    html = shop.page(removal_due)
    assert "Pay now" in html and html.count("Pay by card") == 2 and html.count("Pay by bank transfer") == 2
    assert re.search(r"\$1,000\.00</span><br>\s*<span class=\"muted\">Due now: Removal", html)
    assert "$3,000.00" in html and "The whole balance" in html


def test_bank_transfer_is_offered_first_for_a_large_amount(shop, removal_due):
    html = shop.page(removal_due)
    whole = html[html.index("The whole balance"):]
    assert whole.index("Pay by bank transfer") < whole.index("Pay by card")  # $3,000 > $1,000: bank first
    due = html[html.index("Due now: Removal"):html.index("The whole balance")]
    assert due.index("Pay by card") < due.index("Pay by bank transfer")  # $1,000 is not above it


def test_paying_by_card_marks_the_milestone_paid_by_itself(ctx, contractor, shop, removal_due, outbox):
    status, checkout_url = shop.tap_pay(removal_due, "due", "card")
    assert status == 303 and checkout_url.startswith(shop.stripe.base_url + "/checkout/")
    back = shop.checkout(checkout_url, "card")
    assert back.startswith(f"{shop.base}/p/") and "?checkout=" in back
    wait_for(lambda: milestone(ctx, contractor, removal_due, 1).status.value == "paid")
    status, _, html = request(back)
    assert status == 200 and "your payment of $1,000.00 was received" in html
    assert any("$1,000.00" in body and "(card)" in body for _, _, body in outbox("receipt"))
    assert any("$1,000.00 received (card)" in body for _, _, body in outbox("payment_received"))


def test_a_bank_transfer_shows_processing_then_paid(ctx, contractor, shop, removal_due):
    _, checkout_url = shop.tap_pay(removal_due, "due", "bank")
    back = shop.checkout(checkout_url, "us_bank_account")
    wait_for(lambda: milestone(ctx, contractor, removal_due, 1).status.value == "processing")
    html = request(back)[2]
    assert "Your bank transfer of $1,000.00 is on its way" in html and "Bank transfer processing" in html
    assert "Due now: Removal" not in html  # nothing else to pay for it while it settles
    shop.stripe.settle_bank(Checkout.get().session_id, succeed=True)
    wait_for(lambda: milestone(ctx, contractor, removal_due, 1).status.value == "paid")


def test_a_failed_bank_transfer_opens_the_payment_again(ctx, contractor, shop, removal_due, outbox):
    _, checkout_url = shop.tap_pay(removal_due, "due", "bank")
    shop.checkout(checkout_url, "us_bank_account")
    wait_for(lambda: Checkout.get().state == "processing")
    shop.stripe.settle_bank(Checkout.get().session_id, succeed=False)
    wait_for(lambda: Checkout.get().state == "failed")
    assert milestone(ctx, contractor, removal_due, 1).status.value == "due"
    assert "did not go through" in outbox("bank_transfer_failed")[0][2]
    assert "Pay by card" in shop.page(removal_due)


def test_a_price_change_while_at_the_checkout_records_what_was_paid(ctx, contractor, shop, removal_due):
    _, checkout_url = shop.tap_pay(removal_due, "all", "card")  # $3,000, the whole balance then
    apply_price_change(ctx, contractor, removal_due, PriceChange.total(3_500 * DOLLARS), because="signed on paper")
    shop.checkout(checkout_url, "card")
    wait_for(lambda: Payment.select().where(Payment.reference.is_null(False)).exists())
    job = job_status(ctx, contractor, removal_due)
    assert job.paid == 4_000 * DOLLARS and job.credit == 500 * DOLLARS


def test_every_delivery_is_applied_once(ctx, contractor, shop, removal_due):
    _, checkout_url = shop.tap_pay(removal_due, "due", "card")
    shop.checkout(checkout_url, "card")
    [delivery] = shop.stripe.wait_for_deliveries(1)
    shop.stripe.redeliver(delivery["event_id"])
    shop.stripe.redeliver(delivery["event_id"])
    assert [d["status"] for d in shop.stripe.deliveries] == [200, 200, 200]
    assert Payment.select().where(Payment.reference.is_null(False)).count() == 1
    assert ProviderEvent.select().count() == 1


@pytest.mark.parametrize("forge", ["unsigned", "wrong secret", "tampered", "old"])
def test_a_forged_or_replayed_webhook_is_400_and_changes_nothing(shop, removal_due, forge):
    _, checkout_url = shop.tap_pay(removal_due, "due", "card")
    shop.stripe.hold_deliveries()
    shop.checkout(checkout_url, "card")
    wait_for(lambda: shop.stripe.held)
    event = shop.stripe.events[-1]
    body = json.dumps(event)
    [secret] = shop.payments.webhook_secrets
    header = {"unsigned": "", "wrong secret": sign(body, "whsec_someone_else"),
              "tampered": sign(body, secret), "old": sign(body, secret, int(time.time()) - 301)}[forge]
    sent = body.replace('"paid"', '"paid" ') if forge == "tampered" else body
    status, _, _ = request(shop.base + "/stripe/webhook", body=sent.encode(),
                           headers={"Stripe-Signature": header, "Content-Type": "application/json"})
    assert status == 400
    assert Payment.select().where(Payment.reference.is_null(False)).count() == 0
    assert ProviderEvent.select().count() == 0


def test_stripe_down_when_the_customer_taps_pay_is_a_friendly_page(shop, removal_due):
    shop.stripe.fail_next(3, status=500)
    status, text = shop.tap_pay(removal_due, "due", "card")
    assert status == 503 and "Nothing was charged" in text and "Back to your job" in text
    assert Payment.select().where(Payment.reference.is_null(False)).count() == 0


def test_the_pay_form_may_go_to_the_checkout_and_nowhere_else(shop, removal_due):
    token = shop.ctx.links.token(removal_due, shop.ctx.clock())
    _, headers, _ = request(f"{shop.base}/p/{token}")
    assert f"form-action 'self' {shop.stripe.base_url}" in headers["Content-Security-Policy"]


def test_without_stripe_the_page_shows_the_contractors_instructions(ctx, contractor, removal_due):
    client = create_app(ctx, public_base_url="https://pay.example", twilio_auth_token="t").test_client()
    html = client.get("/p/" + ctx.links.token(removal_due, ctx.clock())).get_data(as_text=True)
    assert "How to pay" in html and "Pay by card" not in html
    assert client.post("/p/" + ctx.links.token(removal_due, ctx.clock()) + "/pay",
                       data={"choice": "due", "method": "card"}).status_code == 404


def test_the_webhook_check_refuses_a_bare_secret_rather_than_trusting_each_letter():
    from sms.stripe_gateway import verified_event

    body = json.dumps({"id": "evt_forged", "type": "x", "data": {"object": {}}})
    with pytest.raises(TypeError):
        verified_event(body.encode(), sign(body, "w"), "whsec_real")
