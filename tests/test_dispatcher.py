"""The outbox dispatcher against a local Twilio over real HTTP: sent once, retried, held, paced, given up on."""

from datetime import timedelta

import pytest

from core.context import Actor
from core.delivery import LoggingSender
from core.dispatcher import DeliveryPolicy, Dispatcher
from core.events import mark_event_done
from core.journal import text_customer
from core.payments import record_payment
from core.quiet_hours import QuietHours
from sms.sender import TwilioSender
from storage.models import Customer, Job, OutboxMessage

UNPACED = DeliveryPolicy(sms_interval=None, telegram_chat_interval=None, telegram_interval=None)
DANA = "+14155550134"


@pytest.fixture
def make_dispatcher(clock, twilio_api):
    def make(policy=UNPACED, sleeps=None):
        sms = TwilioSender(twilio_api.account_sid, twilio_api.auth_token, from_number="+14155550100",
                           api_base_url=twilio_api.base_url, timeout=5)
        return Dispatcher(clock, {"sms": sms, "telegram": LoggingSender("telegram")}, policy,
                          sleep=(sleeps.append if sleeps is not None else lambda seconds: None))
    return make


@pytest.fixture
def planned(planned):
    """The countertop job with its plan queued alone: the consent text queued before it (core/journal.py) was sent
    already, so each test here is about one text."""
    OutboxMessage.update(state="sent").where(OutboxMessage.kind == "consent").execute()
    return planned


def row(kind):
    return OutboxMessage.get(OutboxMessage.kind == kind)


def test_a_queued_text_is_sent_once_and_its_provider_id_recorded(planned, make_dispatcher, twilio_api):
    dispatcher = make_dispatcher()
    assert dispatcher.drain() == 1
    [message] = twilio_api.messages
    assert message["to"] == DANA and "J-" in message["body"]
    plan = row("plan")
    assert (plan.state, plan.provider_id, plan.attempts) == ("sent", message["sid"], 1)
    assert dispatcher.drain() == 0 and len(twilio_api.requests) == 1


def test_a_transient_failure_is_retried_later_with_backoff(planned, clock, make_dispatcher, twilio_api):
    twilio_api.fail_next(1, status=500)
    dispatcher = make_dispatcher()
    dispatcher.drain()
    plan = row("plan")
    assert (plan.state, plan.attempts) == ("pending", 1) and "500" in plan.last_error
    assert clock() + timedelta(seconds=15) <= plan.next_attempt_at <= clock() + timedelta(seconds=30)
    assert dispatcher.drain() == 0  # not before its time
    clock.advance(seconds=30)
    dispatcher.drain()
    assert (row("plan").state, row("plan").attempts) == ("sent", 2)
    assert len(twilio_api.messages) == 1


def test_a_provider_asking_to_wait_is_waited_for(planned, clock, make_dispatcher, twilio_api):
    twilio_api.fail_next(1, status=429, retry_after=120)
    make_dispatcher().drain()
    assert row("plan").next_attempt_at >= clock() + timedelta(seconds=120)


def test_after_the_last_attempt_the_message_fails_and_the_contractor_is_told_once(planned, clock, make_dispatcher,
                                                                                  twilio_api):
    twilio_api.fail_next(3, status=503)
    dispatcher = make_dispatcher(DeliveryPolicy(max_attempts=3, sms_interval=None, telegram_chat_interval=None,
                                                telegram_interval=None))
    for _ in range(4):
        dispatcher.drain()
        clock.advance(hours=2)
    plan = row("plan")
    assert (plan.state, plan.attempts) == ("failed", 3)
    [notice] = OutboxMessage.select().where(OutboxMessage.kind == "delivery_failed")
    assert notice.channel == "telegram" and notice.state == "sent" and "could not be delivered" in notice.body
    assert twilio_api.messages == []


def test_an_invalid_number_is_not_retried(planned, clock, make_dispatcher, twilio_api):
    twilio_api.reject(DANA, code=21211, status=400, message="The 'To' number is not a valid phone number.")
    dispatcher = make_dispatcher()
    dispatcher.drain()
    clock.advance(days=1)
    dispatcher.drain()
    assert (row("plan").state, row("plan").attempts) == ("failed", 1)
    assert len([r for r in twilio_api.requests if r["status"] == 400]) == 1
    assert OutboxMessage.select().where(OutboxMessage.kind == "delivery_failed").count() == 1


def test_an_opted_out_number_is_recorded_and_gets_nothing_more(ctx, contractor, planned, make_dispatcher,
                                                               twilio_api):
    twilio_api.reject(DANA, code=21610)
    dispatcher = make_dispatcher()
    dispatcher.drain()
    assert Customer.get(Customer.phone == DANA).opted_out_at is not None
    notice = OutboxMessage.get(OutboxMessage.kind == "delivery_failed")
    assert "opted out" in notice.body and "START" in notice.body
    requests_so_far = len(twilio_api.requests)
    mark_event_done(ctx, contractor, planned, "Removal")
    dispatcher.drain()
    assert row("payment_due").state == "cancelled"
    assert len(twilio_api.requests) == requests_so_far  # nothing was even tried


def test_a_text_falling_in_the_quiet_hours_waits_for_eight_in_the_customers_morning(ctx, clock, contractor,
                                                                                   planned, make_dispatcher,
                                                                                   twilio_api, utc):
    dispatcher = make_dispatcher(DeliveryPolicy(quiet_hours=QuietHours.parse("21:00-08:00"), sms_interval=None))
    dispatcher.drain()  # the plan, sent at 08:30 in New York
    clock.set(utc(2026, 12, 11, 3, 0))  # 22:00 in New York
    mark_event_done(ctx, contractor, planned, "Removal")  # the Measurement and Removal payments fall due
    dispatcher.drain()
    due = list(OutboxMessage.select().where(OutboxMessage.kind == "payment_due"))
    assert len(due) == 2
    assert {(m.state, m.next_attempt_at) for m in due} == {("pending", utc(2026, 12, 11, 13, 0))}  # 08:00 NY
    assert len(twilio_api.messages) == 1
    clock.set(utc(2026, 12, 11, 12, 59))
    dispatcher.drain()
    assert len(twilio_api.messages) == 1
    clock.set(utc(2026, 12, 11, 13, 0))
    dispatcher.drain()
    assert len(twilio_api.messages) == 3


def test_a_direct_answer_to_the_customer_is_not_held_by_quiet_hours(ctx, clock, planned, make_dispatcher,
                                                                    twilio_api, utc):
    clock.set(utc(2026, 12, 11, 3, 0))  # 22:00 in New York
    job = Job.get(Job.ref == planned)
    text_customer(job.customer, job, "relay_reply", "Yes, we start at 9.", key="reply:1", now=clock(), reply=True)
    make_dispatcher().drain()
    assert row("relay_reply").state == "sent"


def test_texts_keep_the_senders_pace(ctx, clock, planned, make_dispatcher, twilio_api):
    record_payment(ctx, Actor.system("card"), planned, 10_000, "card", reference="ch_1")  # queues a receipt
    sleeps = []
    dispatcher = make_dispatcher(DeliveryPolicy(sms_interval=timedelta(seconds=10), telegram_chat_interval=None,
                                                telegram_interval=None), sleeps)
    dispatcher.drain()
    assert len(twilio_api.messages) == 1  # the plan went; the receipt waits its turn, not in the worker's hand
    receipt = row("receipt")
    assert receipt.state == "pending" and receipt.next_attempt_at == clock() + timedelta(seconds=10)
    clock.advance(seconds=10)
    dispatcher.drain()
    assert len(twilio_api.messages) == 2 and sleeps == []


def test_a_short_pace_wait_is_slept_in_hand(ctx, clock, planned, make_dispatcher, twilio_api):
    record_payment(ctx, Actor.system("card"), planned, 10_000, "card", reference="ch_1")
    sleeps = []
    make_dispatcher(DeliveryPolicy(sms_interval=timedelta(seconds=1.5), telegram_chat_interval=None,
                                   telegram_interval=None), sleeps).drain()
    assert len(twilio_api.messages) == 2 and sleeps == [1.5]


def test_a_stop_twilio_reports_spares_the_next_text_to_that_customer_in_the_same_batch(ctx, planned,
                                                                                       make_dispatcher, twilio_api):
    record_payment(ctx, Actor.system("card"), planned, 10_000, "card", reference="ch_1")  # a receipt after the plan
    twilio_api.reject(DANA, code=21610)
    make_dispatcher().dispatch()  # one batch: the plan, the receipt (and the contractor's notice of the payment)
    assert (row("plan").state, row("receipt").state) == ("failed", "cancelled")
    assert len(twilio_api.requests) == 1  # the receipt was not even tried


def test_a_stop_recorded_while_a_batch_is_being_sent_is_looked_up_again_before_a_later_send(
        ctx, clock, planned, make_dispatcher, twilio_api):
    """The claim reads who opted out for its whole batch; a send starting more than STOPS_READ_FOR after that
    read looks again, as a STOP texted meanwhile (sms/ records it) must hold back what was not sent yet."""
    record_payment(ctx, Actor.system("card"), planned, 10_000, "card", reference="ch_1")
    dispatcher = make_dispatcher()

    def sent_and_then_a_stop(channel, outcome, waited):
        clock.advance(seconds=1)  # the next send starts a second after the claim
        Customer.update(opted_out_at=clock()).where(Customer.phone == DANA).execute()

    dispatcher.observe = sent_and_then_a_stop
    dispatcher.dispatch()  # one batch: the plan, the receipt (and the contractor's notice of the payment)
    assert (row("plan").state, row("receipt").state) == ("sent", "cancelled")
    assert len(twilio_api.messages) == 1
