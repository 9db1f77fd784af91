"""The local Stripe answers like the real one: checked with the real stripe-python 16 wherever it has a call, the
hosted pages with a plain HTTP client that does not follow redirects, and deliveries with the library's own
signature check."""

import threading
import time

import httpx
import pytest
import stripe

from sandbox import LocalStripeAPI
from sandbox.server import JSONHandler, LocalServer, closed_port
from sandbox.stripe_api import StripeError, parse_params

PAGE = "https://pay.example/p/tok123"
WEB = httpx.Client(timeout=5)  # the customer's browser, as plain HTTP; it does not follow redirects


class _ReceiverHandler(JSONHandler):
    api: "Receiver"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.api.changed:
            self.api.received.append((body, self.headers.get("Stripe-Signature")))
            self.api.changed.notify_all()
        self.send_json(self.api.status, {"received": True})


class Receiver(LocalServer):
    """A webhook endpoint: keeps each raw body with its Stripe-Signature header, answers `status`."""

    handler = _ReceiverHandler
    thread_name = "webhook-receiver"

    def __init__(self):
        super().__init__()
        self.status = 200
        self.received: list[tuple[bytes, str]] = []
        self.changed = threading.Condition()

    @property
    def url(self) -> str:
        return self.base_url + "/stripe/webhook"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[bytes, str]]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return list(self.received)


@pytest.fixture
def api():
    with LocalStripeAPI() as api:
        yield api


@pytest.fixture
def client(api):
    return stripe.StripeClient(api.secret_key, base_addresses={"api": api.base_url, "connect": api.base_url},
                               max_network_retries=0)


@pytest.fixture
def receiver():
    with Receiver() as receiver:
        yield receiver


def session_params(amount=128333, currency="usd", methods=("card", "us_bank_account"), **extra):
    """What Paystage sends when a customer taps Pay for a milestone."""
    return {
        "mode": "payment",
        "line_items": [{"price_data": {"currency": currency, "unit_amount": amount,
                                       "product_data": {"name": "J-7K2Q Deposit"}}, "quantity": 1}],
        "payment_method_types": list(methods), "client_reference_id": "J-7K2Q", "metadata": {"job": "J-7K2Q"},
        "payment_intent_data": {"metadata": {"job": "J-7K2Q", "milestones": "1"}},
        "success_url": PAGE + "?paid={CHECKOUT_SESSION_ID}", "cancel_url": PAGE, **extra,
    }


def create(client, key=None, account=None, **params):
    options = {k: v for k, v in {"idempotency_key": key, "stripe_account": account}.items() if v}
    return client.v1.checkout.sessions.create(params=session_params(**params), options=options)


def pay(session, method="card"):
    """The customer's tap on the hosted page: (status, Location)."""
    response = WEB.post(f"{session.url}/pay", data={"method": method})
    return response.status_code, response.headers.get("Location")


def onboarded(api, client):
    account = client.v1.accounts.create(params={"type": "express", "country": "US", "email": "dana@example.com"})
    api.complete_onboarding(account.id)
    return account.id


# --- Checkout Sessions through the library ----------------------------------------------------------------------


def test_a_session_is_created_from_bracketed_form_parameters_and_comes_back_open(api, client):
    session = create(client)

    sent = api.requests[-1]["params"]
    assert sent["line_items"][0]["price_data"]["unit_amount"] == "128333"  # form-encoded, as a string
    assert sent["metadata"] == {"job": "J-7K2Q"} and sent["payment_method_types"] == ["card", "us_bank_account"]
    assert session.id.startswith("cs_test_") and len(session.id) == 66 and session.object == "checkout.session"
    assert (session.amount_total, session.currency, session.status, session.payment_status) == (
        128333, "usd", "open", "unpaid")
    assert session.payment_intent is None and session.client_reference_id == "J-7K2Q"
    assert session.metadata.to_dict() == {"job": "J-7K2Q"}
    assert session.url == f"{api.base_url}/checkout/{session.id}"
    assert session.expires_at - session.created == 24 * 3600
    assert client.v1.checkout.sessions.retrieve(session.id).to_dict() == session.to_dict()


def test_the_same_idempotency_key_and_parameters_replay_the_first_session(api, client):
    first = create(client, key="pay-J-7K2Q-1")
    again = create(client, key="pay-J-7K2Q-1")

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert len(client.v1.checkout.sessions.list().data) == 1


def test_the_same_idempotency_key_with_other_parameters_is_an_idempotency_error(client):
    create(client, key="pay-J-7K2Q-1")

    with pytest.raises(stripe.IdempotencyError) as error:
        create(client, key="pay-J-7K2Q-1", amount=100000)

    assert error.value.http_status == 400 and error.value.error.type == "idempotency_error"


def test_a_key_whose_first_request_is_still_running_is_a_409(api, client):
    api.latency = 0.2
    answers = []

    def tap():
        try:
            answers.append(create(client, key="pay-J-7K2Q-1").id)
        except stripe.APIError as error:
            answers.append(error.http_status)

    taps = [threading.Thread(target=tap) for _ in range(2)]
    for t in taps:
        t.start()
    for t in taps:
        t.join()

    api.latency = 0
    assert sorted(200 if isinstance(a, str) else a for a in answers) == [200, 409]
    assert len(client.v1.checkout.sessions.list().data) == 1


def test_a_wrong_or_missing_key_is_refused_with_stripes_401(api):
    wrong = stripe.StripeClient("sk_test_wrong0000", base_addresses={"api": api.base_url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError, match=r"Invalid API Key provided: sk_test_\*+0000"):
        wrong.v1.checkout.sessions.create(params=session_params())

    response = WEB.post(f"{api.base_url}/v1/checkout/sessions", data={"mode": "payment"})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["message"].startswith("You did not provide an API key")
    assert [r["status"] for r in api.requests] == [401, 401]


def test_bank_transfer_is_refused_for_a_currency_other_than_usd(client):
    with pytest.raises(stripe.InvalidRequestError, match="us_bank_account only supports the following currencies: "
                                                         "usd") as error:
        create(client, currency="eur")
    assert error.value.param == "payment_method_types"

    euros = create(client, currency="eur", methods=["card"])
    page = WEB.get(euros.url).text
    assert "Pay 1,283.33 EUR by card" in page and "bank transfer" not in page


@pytest.mark.parametrize("change, param, code", [
    ({"payment_intent_data": {"metdata": {"job": "J-7K2Q"}}}, "payment_intent_data[metdata]", "parameter_unknown"),
    ({"payment_intent_data": {"metadata": {"job": "x" * 501}}}, "payment_intent_data[metadata][job]", None),
    ({"amount": 49}, None, "amount_too_small"),
    ({"amount": "12.50"}, "line_items[0][price_data][unit_amount]", "parameter_invalid_integer"),
    ({"expires_at": int(time.time()) + 600}, "expires_at", None),
    ({"line_items": [{"price": "price_123", "quantity": 1}]}, "line_items[0][price]", None),
    ({"line_items": [{"price_data": {"currency": "usd", "unit_amount": 100}, "quantity": 1}]},
     "line_items[0][price_data][product_data][name]", "parameter_missing"),
    ({"mode": None}, "mode", "parameter_missing"),
])
def test_parameters_stripe_would_refuse_are_refused_with_the_param_named(api, client, change, param, code):
    with pytest.raises(stripe.InvalidRequestError) as error:
        create(client, **change)

    assert error.value.http_status == 400 and (error.value.param, error.value.code) == (param, code)
    assert not [o for o in api.requests if o["status"] == 200]


def test_stripe_down_is_an_api_error_and_the_retry_with_the_same_key_succeeds(api, client):
    api.fail_next(status=500, path="/v1/checkout/sessions")

    with pytest.raises(stripe.APIError) as error:
        create(client, key="pay-J-7K2Q-1")
    assert error.value.http_status == 500 and error.value.error.type == "api_error"

    assert create(client, key="pay-J-7K2Q-1").status == "open"  # the failure was not saved under the key


def test_a_slow_stripe_times_the_client_out(api):
    api.latency = 0.5
    impatient = stripe.StripeClient(api.secret_key, base_addresses={"api": api.base_url}, max_network_retries=0,
                                    http_client=stripe.RequestsClient(timeout=0.1))

    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.checkout.sessions.create(params=session_params())


def test_sessions_are_listed_newest_first_in_pages_and_by_created(api, client):
    now = [time.time()]
    api.clock = lambda: now[0]
    sessions = []
    for _ in range(3):
        sessions.append(create(client).id)
        now[0] += 10

    first = client.v1.checkout.sessions.list(params={"limit": 2})
    rest = client.v1.checkout.sessions.list(params={"limit": 2, "starting_after": first.data[-1].id})
    recent = client.v1.checkout.sessions.list(params={"created": {"gte": int(now[0]) - 20}})

    assert [s.id for s in first.data] == sessions[:0:-1] and first.has_more
    assert [s.id for s in rest.data] == sessions[:1] and not rest.has_more
    assert [s.id for s in recent.data] == sessions[:0:-1]


def test_expire_closes_an_open_session_once_and_says_so_in_an_event(api, client):
    session = create(client)

    expired = client.v1.checkout.sessions.expire(session.id)

    assert (expired.status, expired.url) == ("expired", None)
    [event] = api.events
    assert event["type"] == "checkout.session.expired" and event["request"]["id"].startswith("req_")
    with pytest.raises(stripe.InvalidRequestError, match="Only Checkout Sessions with a status in"):
        client.v1.checkout.sessions.expire(session.id)


def test_a_session_past_its_expires_at_expires_by_itself_and_cannot_be_paid(api, client):
    session = create(client)
    api.clock = lambda: time.time() + 24 * 3600 + 1

    page = WEB.get(session.url)
    assert page.status_code == 410 and "expired" in page.text
    assert pay(session) == (410, None)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert [e["type"] for e in api.events] == ["checkout.session.expired"]


def test_an_unknown_object_or_url_is_a_404(api, client):
    with pytest.raises(stripe.InvalidRequestError, match="No such checkout.session: 'cs_test_nope'") as error:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert (error.value.http_status, error.value.code) == (404, "resource_missing")

    response = WEB.get(f"{api.base_url}/v1/nothing", headers={"Authorization": f"Bearer {api.secret_key}"})
    assert response.status_code == 404 and "Unrecognized request URL (GET: /v1/nothing)" in response.text


# --- Connected accounts ------------------------------------------------------------------------------------------


def test_a_connected_accounts_session_is_found_only_with_its_stripe_account_header(api, client):
    account = onboarded(api, client)
    session = create(client, key="pay-J-7K2Q-1", account=account)

    assert create(client, key="pay-J-7K2Q-1").id != session.id  # a key belongs to one account
    assert client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account}).id == session.id
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve(session.id)
    with pytest.raises(stripe.PermissionError, match="does not have access to account 'acct_1nope'"):
        create(client, account="acct_1nope")
    pending = client.v1.accounts.create(params={"type": "express"})
    with pytest.raises(stripe.InvalidRequestError, match="charges_enabled is false"):
        create(client, account=pending.id)


def test_a_connected_accounts_events_carry_it_and_go_to_connect_endpoints_only(api, client, receiver):
    with Receiver() as platform:
        api.add_endpoint(platform.url)
        secret = api.add_endpoint(receiver.url, connect=True)
        account = onboarded(api, client)
        pay(create(client, account=account))

        events = [stripe.Webhook.construct_event(b, h, secret) for b, h in receiver.wait_for(2)]
        assert [(e.type, e.account) for e in events] == [("account.updated", account),
                                                         ("checkout.session.completed", account)]
        assert len(api.wait_for_deliveries(2)) == 2 and platform.received == []
    listed = client.v1.events.list(options={"stripe_account": account}).data
    assert [e.id for e in listed] == [e.id for e in reversed(events)]
    assert client.v1.events.list().data == []


# --- The hosted checkout page ------------------------------------------------------------------------------------


def test_the_checkout_page_shows_the_amount_and_a_button_per_method(client):
    session = create(client)

    page = WEB.get(session.url)

    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "<h1>Pay $1,283.33</h1>" in page.text and "J-7K2Q Deposit" in page.text
    for label, method in [("by card", "card"), ("by bank transfer (ACH)", "us_bank_account")]:
        assert f'value="{method}"><button type="submit">Pay $1,283.33 {label}</button>' in page.text
    assert "Cancel and go back" in page.text


def test_paying_by_card_completes_the_session_and_redirects_to_the_success_url(api, client):
    session = create(client)

    assert pay(session) == (303, f"{PAGE}?paid={session.id}")

    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status, paid.url) == ("complete", "paid", None)
    intent = client.v1.payment_intents.retrieve(paid.payment_intent)
    assert intent.id.startswith("pi_") and (intent.status, intent.amount_received) == ("succeeded", 128333)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.id.startswith("ch_") and charge.paid and charge.metadata.to_dict() == {"job": "J-7K2Q",
                                                                                        "milestones": "1"}
    [event] = api.events
    assert event["type"] == "checkout.session.completed" and event["data"]["object"]["payment_status"] == "paid"


@pytest.mark.parametrize("succeed, event_type, payment_status, intent_status", [
    (True, "checkout.session.async_payment_succeeded", "paid", "succeeded"),
    (False, "checkout.session.async_payment_failed", "unpaid", "requires_payment_method"),
])
def test_a_bank_transfer_is_processing_until_it_settles(api, client, succeed, event_type, payment_status,
                                                       intent_status):
    session = create(client)

    assert pay(session, "us_bank_account") == (303, f"{PAGE}?paid={session.id}")
    started = client.v1.checkout.sessions.retrieve(session.id)
    assert (started.status, started.payment_status) == ("complete", "unpaid")
    assert client.v1.payment_intents.retrieve(started.payment_intent).status == "processing"

    event = api.settle_bank(session.id, succeed=succeed)

    assert event["type"] == event_type and event["data"]["object"]["payment_status"] == payment_status
    assert [e["type"] for e in api.events] == ["checkout.session.completed", event_type]
    assert client.v1.payment_intents.retrieve(started.payment_intent).status == intent_status
    with pytest.raises(ValueError, match="no bank transfer in processing"):
        api.settle_bank(session.id)


def test_cancel_goes_back_to_the_cancel_url_and_the_session_stays_open(api, client):
    session = create(client)

    response = WEB.post(f"{session.url}/cancel")

    assert (response.status_code, response.headers["Location"]) == (303, PAGE)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open" and api.events == []


def test_a_paid_session_cannot_be_paid_twice_nor_by_a_method_it_does_not_offer(api, client):
    card_only = create(client, methods=["card"])
    assert pay(card_only, "us_bank_account")[0] == 400

    assert pay(card_only)[0] == 303
    assert pay(card_only) == (409, None)
    assert "This payment is complete" in WEB.get(f"{api.base_url}/checkout/{card_only.id}").text
    assert [e["type"] for e in api.events] == ["checkout.session.completed"]


# --- Webhook deliveries ------------------------------------------------------------------------------------------


def test_deliveries_are_signed_so_the_real_library_accepts_them(api, client, receiver):
    secret = api.add_endpoint(receiver.url)
    session = create(client)
    pay(session)

    [(body, header)] = receiver.wait_for(1)
    event = stripe.Webhook.construct_event(body, header, secret)

    assert secret.startswith("whsec_") and body.startswith(b'{\n  "id": "evt_')  # pretty-printed, as Stripe sends
    assert (event.type, event.object, event.livemode) == ("checkout.session.completed", "event", False)
    assert event.data.object.id == session.id and event.data.object.client_reference_id == "J-7K2Q"
    assert event.pending_webhooks == 1 and event.api_version == stripe.api_version
    [delivery] = api.wait_for_deliveries(1)
    assert (delivery["event_id"], delivery["status"], delivery["url"]) == (event.id, 200, receiver.url)
    assert client.v1.events.list(params={"delivery_success": False}).data == []


def test_the_library_rejects_a_tampered_body_an_old_timestamp_and_a_wrong_secret(api, client, receiver):
    secret = api.add_endpoint(receiver.url)
    pay(create(client))
    [(body, header)] = receiver.wait_for(1)
    assert stripe.Webhook.construct_event(body, header, secret)

    tampered = body.replace(b'"amount_total": 128333', b'"amount_total": 1')
    old = api.sign(body, secret, timestamp=int(time.time()) - 301)
    for payload, signature, key in [(tampered, header, secret), (body, old, secret), (body, header, "whsec_other")]:
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(payload, signature, key)
    assert tampered != body


def test_sign_makes_the_header_the_library_makes():
    payload, secret = '{"id": "evt_1"}', "whsec_test"

    assert LocalStripeAPI.sign(payload, secret, 1700000000) == stripe.WebhookSignature.generate_signature_header(
        payload, secret, 1700000000)


def test_an_endpoint_that_fails_or_cannot_be_reached_leaves_the_event_undelivered(api, client, receiver):
    api.add_endpoint(receiver.url)
    pay(create(client))
    api.wait_for_deliveries(1)
    receiver.status = 500
    api.add_endpoint(f"http://127.0.0.1:{closed_port()}/stripe/webhook")
    pay(missed := create(client))

    attempts = api.wait_for_deliveries(3)[1:]
    assert sorted(d["status"] or 0 for d in attempts) == [0, 500] and any("refused" in d["error"] for d in attempts)
    [undelivered] = client.v1.events.list(params={"delivery_success": False}).data
    assert undelivered.data.object.id == missed.id and undelivered.pending_webhooks == 2

    receiver.status = 200
    api.retry_undelivered()

    assert len(receiver.received) == 3
    [still] = client.v1.events.list(params={"delivery_success": False}).data
    assert still.id == undelivered.id and still.pending_webhooks == 1  # the closed port still has it to take


def test_held_events_are_undelivered_until_released_in_the_order_asked(api, client, receiver):
    secret = api.add_endpoint(receiver.url)
    api.hold_deliveries()
    first, second = create(client), create(client)
    pay(first)
    pay(second)
    held = api.held

    assert len(held) == 2 and receiver.received == []
    assert len(client.v1.events.list(params={"delivery_success": False}).data) == 2

    api.release(order=[held[1]])

    order = [stripe.Webhook.construct_event(b, h, secret).data.object.id for b, h in receiver.wait_for(2)]
    assert order == [second.id, first.id] and api.held == []
    pay(third := create(client))
    assert receiver.wait_for(3)[2][0].count(third.id.encode()) == 1  # delivering as events come again


def test_a_redelivered_event_is_the_same_event_with_a_fresh_signature(api, client, receiver):
    secret = api.add_endpoint(receiver.url)
    pay(create(client))
    [(body, _)] = receiver.wait_for(1)
    event_id = stripe.Webhook.construct_event(body, receiver.received[0][1], secret).id

    [delivery] = api.redeliver(event_id)

    assert delivery["event_id"] == event_id and delivery["status"] == 200
    again = [stripe.Webhook.construct_event(b, h, secret).id for b, h in receiver.wait_for(2)]
    assert again == [event_id, event_id]


def test_events_are_listed_by_type_created_and_in_pages(api, client):
    now = [time.time()]
    api.clock = lambda: now[0]
    pay(create(client))
    now[0] += 10
    client.v1.checkout.sessions.expire(create(client).id)

    completed = client.v1.events.list(params={"type": "checkout.session.completed"}).data
    sessions = client.v1.events.list(params={"type": "checkout.session.*"}).data
    page = client.v1.events.list(params={"limit": 1})
    later = client.v1.events.list(params={"limit": 1, "starting_after": page.data[0].id})
    recent = client.v1.events.list(params={"created": {"gt": int(now[0]) - 5}}).data

    assert [e.type for e in completed] == ["checkout.session.completed"]
    assert [e.type for e in sessions] == ["checkout.session.expired", "checkout.session.completed"]
    assert page.has_more and not later.has_more and later.data[0].id == completed[0].id
    assert [e.type for e in recent] == ["checkout.session.expired"]
    assert client.v1.events.retrieve(completed[0].id).data.object.payment_status == "paid"


# --- Refunds and disputes ----------------------------------------------------------------------------------------


def test_a_partial_then_a_full_refund_are_told_in_charge_refunded(api, client):
    pay(session := create(client))
    intent = client.v1.checkout.sessions.retrieve(session.id).payment_intent

    refund = client.v1.refunds.create(params={"payment_intent": intent, "amount": 28333})
    rest = client.v1.refunds.create(params={"payment_intent": intent})

    assert refund.id.startswith("re_") and (refund.amount, refund.status) == (28333, "succeeded")
    assert rest.amount == 100000
    partial, full = [e["data"]["object"] for e in api.events if e["type"] == "charge.refunded"]
    assert (partial["amount"], partial["amount_refunded"], partial["refunded"]) == (128333, 28333, False)
    assert (full["amount_refunded"], full["refunded"], full["payment_intent"]) == (128333, True, intent)
    assert full["metadata"] == {"job": "J-7K2Q", "milestones": "1"}
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.refunds.create(params={"charge": full["id"]})
    assert error.value.code == "charge_already_refunded"


def test_a_refund_beyond_what_is_left_or_of_a_transfer_still_processing_is_refused(api, client):
    pay(card := create(client))
    pay(bank := create(client), "us_bank_account")

    card_intent, bank_intent = (client.v1.checkout.sessions.retrieve(s.id).payment_intent for s in (card, bank))

    with pytest.raises(stripe.InvalidRequestError, match=r"greater than unrefunded amount on charge \(\$1,283.33\)"):
        client.v1.refunds.create(params={"payment_intent": card_intent, "amount": 128334})
    with pytest.raises(stripe.InvalidRequestError, match="has not succeeded"):
        client.v1.refunds.create(params={"payment_intent": bank_intent})
    assert [e["type"] for e in api.events] == ["checkout.session.completed"] * 2


def test_a_dispute_is_told_in_charge_dispute_created(api, client):
    pay(session := create(client))
    intent = client.v1.checkout.sessions.retrieve(session.id).payment_intent

    dispute = api.dispute(intent, reason="product_not_received")

    [event] = [e for e in api.events if e["type"] == "charge.dispute.created"]
    assert event["data"]["object"] == dispute
    assert dispute["id"].startswith("du_") and (dispute["amount"], dispute["payment_intent"], dispute["reason"],
                                                dispute["status"]) == (128333, intent, "product_not_received",
                                                                       "needs_response")
    assert client.v1.charges.retrieve(dispute["charge"]).disputed


# --- Connect onboarding ------------------------------------------------------------------------------------------


def test_an_express_account_is_onboarded_through_its_account_link(api, client, receiver):
    api.add_endpoint(receiver.url, connect=True)
    account = client.v1.accounts.create(params={"type": "express", "country": "US", "email": "dana@example.com",
                                                "metadata": {"contractor": "7"}})
    assert account.id.startswith("acct_") and not account.charges_enabled and account.metadata.contractor == "7"

    link = client.v1.account_links.create(params={"account": account.id, "type": "account_onboarding",
                                                  "refresh_url": "https://pay.example/connect/refresh",
                                                  "return_url": "https://pay.example/connect/done"})
    assert link.object == "account_link" and link.expires_at > time.time()
    assert "dana@example.com" in WEB.get(link.url).text
    done = WEB.post(link.url, data={"action": "submit"})

    assert (done.status_code, done.headers["Location"]) == (303, "https://pay.example/connect/done")
    assert client.v1.accounts.retrieve(account.id).charges_enabled
    [(body, _)] = receiver.wait_for(1)
    assert b'"type": "account.updated"' in body and f'"account": "{account.id}"'.encode() in body
    used = WEB.get(link.url)
    assert (used.status_code, used.headers["Location"]) == (303, "https://pay.example/connect/refresh")


def test_leaving_onboarding_unfinished_returns_without_enabling_charges(api, client):
    account = client.v1.accounts.create(params={"type": "express"})
    link = client.v1.account_links.create(params={"account": account.id, "type": "account_onboarding",
                                                  "refresh_url": "https://pay.example/r",
                                                  "return_url": "https://pay.example/done"})

    left = WEB.post(link.url, data={"action": "leave"})

    assert (left.status_code, left.headers["Location"]) == (303, "https://pay.example/done")
    assert not client.v1.accounts.retrieve(account.id).charges_enabled and api.events == []


# --- The wire format ---------------------------------------------------------------------------------------------


def test_bracket_notation_becomes_nested_dicts_and_lists():
    assert parse_params("a[0][b]=1&a[1][b]=2&c[]=x&c[]=y&metadata[0]=z&d=") == {
        "a": [{"b": "1"}, {"b": "2"}], "c": ["x", "y"], "metadata": {"0": "z"}, "d": ""}
    with pytest.raises(StripeError):
        parse_params("a=1&a[b]=2")
