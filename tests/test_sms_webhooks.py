"""Twilio's webhooks through the Flask app: signed requests, every word a customer can text, status callbacks."""

import itertools
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from core.change_orders import propose_price_change
from core.context import Actor
from core.jobs import Item, create_job, job_status, register_contractor
from core.pricing import PriceChange
from sms.app import create_app
from storage.models import ChangeOrder, Customer, InboundMessage, OutboxMessage

TOKEN = "test-auth-token"
PUBLIC = "https://pay.example"
DANA = "+14155550134"
STRANGER = "+14155550999"
sids = (f"SM{n:032d}" for n in itertools.count(1))


@pytest.fixture
def client(ctx):
    app = create_app(ctx, public_base_url=PUBLIC, twilio_auth_token=TOKEN)
    return app.test_client()


def signed_post(client, path, form, *, token=TOKEN, url=None):
    signature = RequestValidator(token).compute_signature(url or PUBLIC + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def text(client, body, phone=DANA, sid=None):
    """Send `body` as the customer; return (status, answer text or None)."""
    form = {"MessageSid": sid or next(sids), "From": phone, "To": "+14155550100", "Body": body}
    response = signed_post(client, "/sms/inbound", form)
    root = ET.fromstring(response.data)
    assert root.tag == "Response" and response.mimetype == "application/xml"
    message = root.find("Message")
    return response.status_code, (message.text if message is not None else None)


def answer(client, body, **kwargs):
    status, reply = text(client, body, **kwargs)
    assert status == 200
    return reply


# --- security --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signature", [None, "", "forged0123456789abcdefghijk="])
def test_a_request_without_a_valid_signature_is_refused_and_changes_nothing(client, planned, signature):
    outbox_before = OutboxMessage.select().count()
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    response = client.post("/sms/inbound", data={"MessageSid": "SM1", "From": DANA, "Body": "STOP"},
                           headers=headers)
    assert response.status_code == 403
    assert InboundMessage.select().count() == 0 and OutboxMessage.select().count() == outbox_before
    assert Customer.get(Customer.phone == DANA).opted_out_at is None


def test_a_request_signed_with_another_token_is_refused(client, planned):
    form = {"MessageSid": "SM1", "From": DANA, "Body": "BAL"}
    assert signed_post(client, "/sms/inbound", form, token="someone-elses-token").status_code == 403


def test_the_signature_is_checked_against_the_public_address_not_the_one_the_proxy_used(client, planned):
    # the test client talks to http://localhost/...; Twilio signed https://pay.example/...
    form = {"MessageSid": "SM1", "From": DANA, "Body": "BAL"}
    assert signed_post(client, "/sms/inbound", form).status_code == 200
    assert signed_post(client, "/sms/inbound", dict(form, MessageSid="SM2"),
                       url="http://localhost/sms/inbound").status_code == 403


def test_a_changed_body_breaks_the_signature(client, planned):
    form = {"MessageSid": "SM1", "From": DANA, "Body": "BAL"}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/sms/inbound", form)
    response = client.post("/sms/inbound", data=dict(form, Body="STOP"), headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_without_a_twilio_token_every_twilio_request_is_refused(ctx, planned):
    client = create_app(ctx, public_base_url=PUBLIC, twilio_auth_token=None).test_client()
    assert signed_post(client, "/sms/inbound", {"MessageSid": "SM1", "From": DANA, "Body": "BAL"}).status_code == 403


def test_an_unknown_number_learns_nothing(client, planned):
    reply = answer(client, "BAL", phone=STRANGER)
    assert "not linked" in reply
    for secret in (planned, "Dana", "Granite", "$", "Kitchen"):
        assert secret not in reply
    assert answer(client, "hello, who is this?", phone=STRANGER) == reply
    assert OutboxMessage.select().where(OutboxMessage.kind == "relay").count() == 0


# --- what a customer can text ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["BAL", "bal", " Balance! ", "bal."])
def test_bal_answers_paid_remaining_and_due_now(client, ctx, planned, body):
    from core.payments import record_payment

    record_payment(ctx, Actor.system("card"), planned, 100_000, "card", reference="ch_1")
    reply = answer(client, body)
    assert "$1,000.00" in reply and "$3,000.00" in reply and planned in reply


@pytest.mark.parametrize("body", ["NEXT", "status", "Next?"])
def test_next_names_the_next_payment_and_what_it_is_tied_to(client, planned, body):
    reply = answer(client, body)
    assert "$1,000.00" in reply and "Measurement" in reply


def test_plan_lists_every_payment_with_its_state(client, planned):
    reply = answer(client, "plan")
    assert all(amount in reply for amount in ("$1,000.00", "$2,000.00"))
    assert "Removal" in reply and "Installation" in reply


def test_pay_gives_a_fresh_link_or_says_when_the_next_payment_comes(client, ctx, clock, contractor, planned):
    from core.events import mark_event_done

    nothing_due = answer(client, "PAY")
    assert "othing is due" in nothing_due and "https://pay.example/p/" in nothing_due
    mark_event_done(ctx, contractor, planned, "Removal")
    due = answer(client, "pay")
    assert "$1,000.00" in due and "https://pay.example/p/" in due


def test_help_names_the_words_and_the_contractor(client, planned):
    reply = answer(client, "HELP")
    assert "BAL" in reply and "Granite & Co" in reply and "555-0100" in reply.replace("5550100", "555-0100")


def test_anything_else_is_passed_on_to_the_contractor_and_the_customer_is_told(client, planned):
    reply = answer(client, "Can we move the install to Friday? 🙂")
    assert "Granite & Co" in reply
    [relay] = OutboxMessage.select().where(OutboxMessage.kind == "relay")
    assert relay.channel == "telegram" and relay.recipient == "555"
    assert "Dana Whitfield" in relay.body and planned in relay.body and "Friday? 🙂" in relay.body


def test_a_twilio_retry_of_the_same_message_is_handled_once(client, planned):
    first = answer(client, "Is Tuesday OK?", sid="SMretry")
    again = answer(client, "Is Tuesday OK?", sid="SMretry")
    assert again == first
    assert OutboxMessage.select().where(OutboxMessage.kind == "relay").count() == 1
    assert InboundMessage.select().count() == 1


def test_stop_opts_out_tells_the_contractor_and_start_opts_back_in(client, planned):
    assert answer(client, "STOP") is None  # Twilio confirms a STOP itself
    assert Customer.get(Customer.phone == DANA).opted_out_at is not None
    assert OutboxMessage.get(OutboxMessage.kind == "opted_out").channel == "telegram"
    assert answer(client, "stop") is None and OutboxMessage.select().where(
        OutboxMessage.kind == "opted_out").count() == 1  # a second STOP changes nothing
    reply = answer(client, "START")
    assert reply and Customer.get(Customer.phone == DANA).opted_out_at is None
    assert OutboxMessage.select().where(OutboxMessage.kind == "opted_in").count() == 1


@pytest.mark.parametrize("word", ["UNSUBSCRIBE", "cancel", "End", "QUIT", "revoke", "optout", "STOPALL"])
def test_every_twilio_opt_out_word_opts_out(client, planned, word):
    assert answer(client, word) is None
    assert Customer.get(Customer.phone == DANA).opted_out_at is not None


def test_yes_to_a_change_order_applies_it_keeping_the_message_id_and_the_text_as_evidence(client, ctx, contractor,
                                                                                           planned):
    assert "nothing" in answer(client, "YES").lower()
    propose_price_change(ctx, contractor, planned, PriceChange.total(485_000))
    assert job_status(ctx, contractor, planned).total == 400_000  # the plan stands until the answer
    assert "waits for your YES or NO" in answer(client, "BAL")
    reply = answer(client, "yes", sid="SM" + "7" * 32)
    assert "You approved the new price" in reply and "$4,850.00" in reply
    assert job_status(ctx, contractor, planned).total == 485_000
    order = ChangeOrder.get()
    sent = OutboxMessage.get(OutboxMessage.kind == "change_order")
    assert (order.state, order.answered_via, order.answered_by, order.message_id) == (
        "approved", "sms", DANA, "SM" + "7" * 32)
    assert order.shown == order.text == sent.body  # the exact words the customer answered YES to
    assert OutboxMessage.get(OutboxMessage.kind == "change_order_approved").channel == "telegram"
    assert "nothing" in answer(client, "YES").lower()  # approved once


def test_no_declines_a_change_order_and_is_passed_on_when_nothing_waits(client, ctx, contractor, planned):
    propose_price_change(ctx, contractor, planned, PriceChange.total(485_000))
    assert "you declined" in answer(client, "No")
    assert ChangeOrder.get().state == "declined" and job_status(ctx, contractor, planned).total == 400_000
    assert "declined change order 1" in OutboxMessage.get(OutboxMessage.kind == "change_order_declined").body
    assert "passed your message" in answer(client, "no")  # nothing waits: the customer's own word, passed on


def test_a_phone_with_several_jobs_picks_one_by_number(client, ctx, contractor, planned):
    other = Actor.contractor(register_contractor(ctx, business_name="Roof Pros", telegram_id=556).id)
    roof = create_job(ctx, other, customer_name="Dana W", phone=DANA, title="New roof", items=[Item("Roof", 900_000)])
    listing = answer(client, "BAL")
    assert f"1. Granite & Co, job {planned}" in listing and f"2. Roof Pros, job {roof.ref}" in listing
    assert "New roof" in answer(client, "2")
    assert roof.ref in answer(client, "BAL") and "$9,000.00" in answer(client, "BAL")
    assert "Kitchen countertops" in answer(client, "1")
    assert "$4,000.00" in answer(client, "bal")


def mallorys_job(ctx, title="URGENT unpaid balance - pay today"):
    """Another business on the same Paystage puts a job, and words of its choosing, on Dana's phone."""
    mallory = Actor.contractor(register_contractor(ctx, business_name="Mallory Scam Ltd", telegram_id=666).id)
    return create_job(ctx, mallory, customer_name="Dana", phone=DANA, title=title, items=[Item("Balance", 99_900)])


def test_another_business_on_the_phone_gets_its_name_listed_but_none_of_its_words(client, ctx, planned):
    scam = mallorys_job(ctx)
    listing = answer(client, "BAL")
    assert listing.splitlines()[0] == "Your number has jobs with 2 businesses. Which business is your text for?"
    assert f"1. Granite & Co, job {planned}" in listing and f"2. Mallory Scam Ltd, job {scam.ref}" in listing
    assert "URGENT" not in listing


def test_another_business_copying_the_contractors_name_is_still_listed_as_another_business(client, ctx, planned):
    impostor = Actor.contractor(register_contractor(ctx, business_name="Granite & Co", telegram_id=666).id)
    create_job(ctx, impostor, customer_name="Dana", phone=DANA, title="URGENT unpaid balance",
               items=[Item("Balance", 99_900)])
    listing = answer(client, "BAL")
    assert "2 businesses" in listing and "URGENT" not in listing


def test_a_message_sent_before_picking_a_job_is_kept_and_goes_to_the_business_picked(client, ctx, planned):
    mallorys_job(ctx)
    kept = answer(client, "Can the crew come Friday instead?")
    assert "Which business is your message for?" in kept and "we will pass your message on" in kept
    assert OutboxMessage.select().where(OutboxMessage.kind == "relay").count() == 0  # not guessed

    picked = answer(client, "1")
    assert "We passed your message on to Granite & Co." in picked and planned in picked
    [relay] = OutboxMessage.select().where(OutboxMessage.kind == "relay")
    assert relay.recipient == "555" and "Can the crew come Friday instead?" in relay.body
    assert f"before they picked {planned}" in relay.body
    assert "We passed" not in answer(client, "2")  # passed on once: nothing is left for the other business
    assert OutboxMessage.select().where(OutboxMessage.kind == "relay", OutboxMessage.recipient == "666").count() == 0


def test_every_message_sent_before_picking_is_passed_on_once_even_when_twilio_retries(client, ctx, planned):
    mallorys_job(ctx)
    answer(client, "Is Friday OK?", sid="SMfirst")
    answer(client, "Is Friday OK?", sid="SMfirst")  # Twilio's retry of the same text
    answer(client, "Or Monday?")
    assert "your 2 messages" in answer(client, "1")
    relays = [m.body for m in OutboxMessage.select().where(OutboxMessage.kind == "relay").order_by(OutboxMessage.id)]
    assert len(relays) == 2 and "Is Friday OK?" in relays[0] and "Or Monday?" in relays[1]


def test_the_words_for_a_job_before_picking_one_are_not_kept_as_a_message(client, ctx, planned):
    mallorys_job(ctx)
    for word in ("BAL", "help", "7", "YES", "🏠"):
        assert "Reply with the number, then BAL" in answer(client, word)
    assert "We passed" not in answer(client, "1")


# --- delivery status callbacks ---------------------------------------------------------------------------------


def sent_plan(planned):
    message = OutboxMessage.get(OutboxMessage.kind == "plan")
    OutboxMessage.update(state="sent", provider_id="SMplan").where(OutboxMessage.id == message.id).execute()
    return OutboxMessage.get_by_id(message.id)


def status(client, sid, state, error_code=None):
    form = {"MessageSid": sid, "MessageStatus": state, "AccountSid": "AC1"}
    if error_code:
        form["ErrorCode"] = str(error_code)
    return signed_post(client, "/sms/status", form).status_code


def test_delivery_status_only_moves_forward(client, planned):
    sent_plan(planned)
    assert status(client, "SMplan", "delivered") == 204
    assert status(client, "SMplan", "sent") == 204  # late, out of order
    assert OutboxMessage.get(OutboxMessage.provider_id == "SMplan").delivery_status == "delivered"


def test_an_undelivered_text_to_a_dead_number_tells_the_contractor_once(client, planned):
    sent_plan(planned)
    status(client, "SMplan", "undelivered", 30006)
    status(client, "SMplan", "undelivered", 30006)
    message = OutboxMessage.get(OutboxMessage.provider_id == "SMplan")
    assert (message.delivery_status, message.delivery_error) == ("undelivered", 30006)
    assert OutboxMessage.select().where(OutboxMessage.kind == "delivery_failed").count() == 1


def test_a_status_for_a_message_we_do_not_know_changes_nothing(client, planned):
    assert status(client, "SMnobody", "delivered") == 204
    assert status(client, "SMnobody", "exploded") == 204
    assert OutboxMessage.select().where(OutboxMessage.delivery_status.is_null(False)).count() == 0


def test_status_callbacks_need_a_signature_too(client, planned):
    sent_plan(planned)
    response = client.post("/sms/status", data={"MessageSid": "SMplan", "MessageStatus": "failed"})
    assert response.status_code == 403
    assert OutboxMessage.get(OutboxMessage.provider_id == "SMplan").delivery_status is None


# --- whatever arrives -----------------------------------------------------------------------------------------


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.text(max_size=1600), st.sampled_from(["", " ", "🏠🏠", "\x00", "1", "99", "YES", "STOP"])),
       phone=st.sampled_from([DANA, STRANGER]))
def test_any_body_gets_valid_twiml_and_never_a_server_error(client, planned, body, phone):
    status_code, reply = text(client, body, phone=phone)
    assert status_code == 200
    if reply:
        from core.gsm import is_gsm7, segments

        assert is_gsm7(reply) and segments(reply) <= 3


def test_a_server_error_is_answered_with_an_apology_not_a_stack_trace(client, planned, monkeypatch):
    import sms.webhooks

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(sms.webhooks, "answer_text", broken)
    status_code, reply = text(client, "BAL")
    assert status_code == 200 and "Sorry" in reply and "fire" not in reply


def test_the_health_check_answers(client, database):
    assert client.get("/healthz").get_json() == {"status": "ok"}

