"""The real worker — APScheduler loop and dispatcher thread — on the real clock, against a local Twilio; and its
turns, recorded for /healthz, on the test's clock."""

from datetime import timedelta

import pytest
from peewee import SqliteDatabase

from core.clock import FrozenClock, system_clock
from core.context import Context
from core.delivery import LoggingSender
from core.dispatcher import DeliveryPolicy, Dispatcher
from core.events import add_event
from core.health import FIRST_TURN_WITHIN
from core.jobs import Item, create_job
from core.links import PaymentLinks
from core.plans import send_plan, set_plan
from core.quiet_hours import QuietHours
from paystage.worker import Worker
from sms.app import create_app
from sms.sender import TwilioSender
from storage.models import db

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


# -- the worker's turn, as /healthz in the web app tells it (core/health.py) ----------------------------------------


@pytest.fixture
def web(ctx):
    """The web app of another process: it knows the worker only by what the worker recorded in the database."""
    return create_app(ctx, public_base_url="https://pay.example", twilio_auth_token=None).test_client()


def health(web) -> tuple[int, dict]:
    response = web.get("/healthz")
    return response.status_code, response.get_json()


def test_healthz_is_ok_while_the_worker_turns_and_says_so_when_it_stops(ctx, clock, web):
    worker = Worker(ctx, Dispatcher(clock, {}, ALWAYS), scan_every=timedelta(seconds=30))
    worker.scan()
    assert health(web) == (200, {"status": "ok"})
    clock.advance(seconds=90)  # three scans on: late, not yet stale
    assert health(web) == (200, {"status": "ok"})
    clock.advance(seconds=1)
    status, answer = health(web)
    assert status == 503 and answer["status"] == "unavailable"
    assert answer["reason"].startswith("the worker's last turn ended 91s ago; it turns every 30s")
    worker.scan()  # it is back
    assert health(web) == (200, {"status": "ok"})


def test_a_worker_turning_less_often_is_given_as_long(ctx, clock, web):
    """The worker records its scan interval with its turn: no other process has to be told it."""
    Worker(ctx, Dispatcher(clock, {}, ALWAYS), scan_every=timedelta(minutes=5)).scan()
    clock.advance(minutes=15)
    assert health(web)[0] == 200
    clock.advance(seconds=1)
    assert health(web)[0] == 503


def test_healthz_waits_a_while_for_a_first_turn_then_says_none_came(clock, web):
    assert health(web) == (200, {"status": "ok"})  # this process and the worker are starting
    clock.advance(seconds=FIRST_TURN_WITHIN.total_seconds() + 1)
    status, answer = health(web)
    assert status == 503 and answer["reason"].startswith("no worker has turned in the 121s since this process")


def test_healthz_says_so_when_the_database_does_not_answer(database, web, tmp_path):
    db.initialize(SqliteDatabase(str(tmp_path / "no such folder" / "paystage.sqlite3")))
    try:
        status, answer = health(web)
    finally:
        db.initialize(database)
    assert (status, answer) == (503, {"status": "unavailable", "reason": "the database does not answer"})
    assert health(web) == (200, {"status": "ok"})  # and once it answers again, so does /healthz
