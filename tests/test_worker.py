"""The real worker — APScheduler loop and dispatcher thread — on the real clock, against a local Twilio."""

from datetime import timedelta

import pytest

from core.clock import FrozenClock, system_clock
from core.context import Context
from core.delivery import LoggingSender
from core.dispatcher import DeliveryPolicy, Dispatcher
from core.events import add_event
from core.jobs import Item, create_job
from core.links import PaymentLinks
from core.plans import send_plan, set_plan
from core.quiet_hours import QuietHours
from paystage.worker import Worker
from sms.sender import TwilioSender

ALWAYS = DeliveryPolicy(quiet_hours=QuietHours.parse("off"), sms_interval=None, telegram_chat_interval=None,
                        telegram_interval=None)


@pytest.fixture
def running(database, twilio_api):
    """Start a Worker on the real clock (scans a minute apart, so only its precise jobs can be quick)."""
    workers = []

    def start():
        sms = TwilioSender(twilio_api.account_sid, twilio_api.auth_token, from_number="+14155550100",
                           api_base_url=twilio_api.base_url, timeout=5)
        ctx = Context(clock=system_clock, links=PaymentLinks("https://pay.example", "k"))
        worker = Worker(ctx, Dispatcher(system_clock, {"sms": sms, "telegram": LoggingSender("telegram")}, ALWAYS),
                        scan_every=timedelta(minutes=1), poll=0.1)
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def job_due_at(contractor, due_at, sent_at):
    """A job whose plan was sent at `sent_at` and whose first payment falls due at `due_at`."""
    ctx = Context(clock=FrozenClock(sent_at), links=PaymentLinks("https://pay.example", "k"))
    job = create_job(ctx, contractor, customer_name="Dana", phone="(415) 555-0134", title="Countertops",
                     items=[Item("Countertops", 400_000)])
    add_event(ctx, contractor, job.ref, "Measurement", due_at + timedelta(hours=24))
    add_event(ctx, contractor, job.ref, "Installation", None)
    set_plan(ctx, contractor, job.ref, "25% before measurement, rest after installation")
    send_plan(ctx, contractor, job.ref)
    return job.ref


def test_on_start_the_worker_sends_what_fell_due_while_it_was_down(contractor, running, twilio_api):
    now = system_clock()
    job_due_at(contractor, due_at=now - timedelta(hours=1), sent_at=now - timedelta(hours=3))
    running()
    bodies = [m["body"] for m in twilio_api.wait_for(3, timeout=15)]
    assert sum("is now due" in body for body in bodies) == 1  # the payment due, beside the consent and plan texts


def test_a_due_moment_fires_within_seconds_not_at_the_next_scan(contractor, running, twilio_api):
    now = system_clock()
    due_at = now + timedelta(seconds=3)
    job_due_at(contractor, due_at=due_at, sent_at=now)
    running()
    twilio_api.wait_for(2, timeout=10)  # the consent and plan texts, at once
    [_, _, due] = twilio_api.wait_for(3, timeout=15)  # the payment due: long before the scan a minute later
    assert "is now due" in due["body"]
    assert due["received_at"] >= due_at  # and not before its moment
