"""Waking the dispatcher when a text is queued (storage/wake.py): once the transaction that queued it commits, in
this process and, on PostgreSQL, from another one; never for a transaction rolled back.

The workers here poll once a minute, so a text that arrives within the tests' waits was sent because of a wake.
"""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from peewee import PostgresqlDatabase

from core.clock import system_clock
from core.context import Context
from core.delivery import LoggingSender
from core.dispatcher import DeliveryPolicy, Dispatcher
from core.journal import enqueue
from core.links import PaymentLinks
from core.quiet_hours import QuietHours
from paystage.worker import Worker
from sms.sender import TwilioSender
from storage import wake
from storage.models import OutboxMessage, db
from tests.databases import POSTGRES_URL

UNPACED = DeliveryPolicy(quiet_hours=QuietHours.parse("off"), sms_interval=None, telegram_chat_interval=None,
                         telegram_interval=None)
A_MINUTE = 60.0  # the workers' poll: longer than any wait here
SETTLE = 0.3  # seconds for a started worker's first drain (of an empty outbox) to end
REPO = Path(__file__).resolve().parent.parent


def queue_text(n: int) -> bool:
    """One text to a customer of its own, as the use cases queue texts."""
    return enqueue(channel="sms", recipient=f"+1415555{n:04d}", body=f"Text {n}", kind="test", key=f"wake:{n}",
                   now=system_clock())


@pytest.fixture
def start_worker(database, twilio_api):
    """start_worker() -> a running Worker on the real clock, polling once a minute; all stopped afterwards."""
    workers = []

    def start(dispatchers: int = 1) -> Worker:
        sms = TwilioSender(twilio_api.account_sid, twilio_api.auth_token, from_number="+14155550100",
                           api_base_url=twilio_api.base_url, timeout=5)
        ctx = Context(clock=system_clock, links=PaymentLinks("https://pay.example", "k"))
        worker = Worker(ctx, Dispatcher(system_clock, {"sms": sms, "telegram": LoggingSender("telegram")}, UNPACED),
                        scan_every=timedelta(hours=1), poll=A_MINUTE, dispatchers=dispatchers)
        worker.start()
        workers.append(worker)
        time.sleep(SETTLE)
        return worker

    yield start
    for worker in workers:
        if worker.scheduler.running:  # not stopped by the test itself
            worker.stop()


def test_a_watch_is_woken_after_the_commit_once_and_never_for_a_rollback(database):
    woken = []
    watch = wake.watch(lambda: woken.append(threading.current_thread().name))
    try:
        with db.atomic():
            assert queue_text(1)
            assert woken == []  # not yet: a dispatcher woken now would find nothing and sleep a whole poll
        assert woken == [threading.current_thread().name]  # by the committing thread, right after its commit

        with db.atomic() as transaction:
            queue_text(2)
            transaction.rollback()
        with pytest.raises(RuntimeError), db.atomic():
            queue_text(3)
            raise RuntimeError("the use case failed")
        assert len(woken) == 1

        assert not queue_text(1)  # its key was queued already: nothing new, nobody woken
        assert len(woken) == 1
        assert queue_text(4)  # outside any transaction the statement commits on its own: at once
        assert len(woken) == 2
    finally:
        watch.close()
    queue_text(5)
    assert len(woken) == 2  # closed: no longer woken


def test_a_committed_text_is_sent_at_once_not_at_the_next_poll(start_worker, twilio_api):
    start_worker()
    with db.atomic():
        queue_text(1)
        time.sleep(SETTLE)  # a worker woken before the commit would find nothing and sleep for a minute
        assert twilio_api.messages == []
    [sent] = twilio_api.wait_for(1, timeout=10)
    assert sent["to"] == "+14155550001"


def test_a_text_queued_on_another_thread_wakes_the_worker(start_worker, twilio_api):
    """The bot's /done and the web app run on threads of their own in `paystage run`, beside the worker."""
    start_worker()

    def use_case():
        with db.connection_context(), db.atomic():
            queue_text(1)

    thread = threading.Thread(target=use_case)
    thread.start()
    thread.join()
    assert twilio_api.wait_for(1, timeout=10)[0]["to"] == "+14155550001"


# LISTEN/NOTIFY is PostgreSQL's: on SQLite one process runs the worker, and the poll is the rest
on_postgresql = pytest.mark.parametrize("database", [pytest.param("postgres", marks=pytest.mark.skipif(
    not POSTGRES_URL, reason="LISTEN/NOTIFY: set PAYSTAGE_TEST_POSTGRES_URL"))], indirect=True)


@on_postgresql
def test_on_postgresql_a_text_queued_by_another_process_wakes_the_worker(database, start_worker, twilio_api):
    start_worker()
    script = ("from core.clock import system_clock\nfrom core.journal import enqueue\n"
              "from storage.database import open_database\nfrom storage.models import db\n"
              f"open_database({POSTGRES_URL!r})\n"
              "with db.atomic():\n"
              "    enqueue(channel='sms', recipient='+14155559999', body='From afar', kind='test', key='afar',"
              " now=system_clock())\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, cwd=REPO,
                   env={**os.environ, "PYTHONPATH": str(REPO)})
    assert twilio_api.wait_for(1, timeout=10)[0]["to"] == "+14155559999"


def test_a_stopped_worker_leaves_no_listener_behind(database, start_worker):
    start_worker().stop()
    assert [t.name for t in threading.enumerate() if t.name in ("dispatcher", "outbox-listener")] == []
    if isinstance(database, PostgresqlDatabase):
        assert listening_backends() == 0


@on_postgresql
def test_a_listener_that_lost_its_connection_listens_again_and_wakes(database, monkeypatch):
    monkeypatch.setattr(wake, "RECONNECT_AFTER", 0.05)
    woken = threading.Semaphore(0)
    watch = wake.watch(woken.release)
    try:
        database.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND query = %s", (f"LISTEN {wake.CHANNEL}",))
        assert woken.acquire(timeout=10)  # reconnected: what came meanwhile is looked for at once
        database.execute_sql("SELECT pg_notify(%s, 'another process')", (wake.CHANNEL,))
        assert woken.acquire(timeout=10)
    finally:
        watch.close()


def listening_backends() -> int:
    return db.execute_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = %s",
                          (f"LISTEN {wake.CHANNEL}",)).fetchone()[0]


def test_several_dispatchers_of_one_worker_send_every_text_once_side_by_side(start_worker, twilio_api):
    """PAYSTAGE_DISPATCHERS: threads sending side by side, each claiming its own batch, sharing one wake."""
    twilio_api.latency = 0.05  # every answer takes this long: one dispatcher's sends arrive at least this far apart
    start_worker(dispatchers=3)
    with db.atomic():
        for n in range(30):
            queue_text(n)
    twilio_api.wait_for(30, timeout=30)
    time.sleep(SETTLE)  # a second copy of any would have arrived by now
    assert sorted(m["to"] for m in twilio_api.messages) == sorted(f"+1415555{n:04d}" for n in range(30))
    assert {state for (state,) in OutboxMessage.select(OutboxMessage.state).tuples()} == {"sent"}
    arrivals = sorted(request["at"] for request in twilio_api.requests if request["method"] == "POST")
    assert min(b - a for a, b in zip(arrivals, arrivals[1:])) < twilio_api.latency  # one came while another waited
