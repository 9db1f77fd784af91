"""/metrics after a scripted story, read back with prometheus-client's own parser: every number what happened.

In one process on the test's clock (the plan sent, a text failing once, a payment falling due, a text refused for
good, a customer's text, the bot's updates), then as `paystage web`, `paystage worker` and `paystage run` serve it.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.utils import floatToGoString
from twilio.request_validator import RequestValidator

from core.delivery import LoggingSender
from core.dispatcher import DeliveryPolicy, Dispatcher
from core.events import mark_event_done
from core.payments import record_payment
from core.quiet_hours import QuietHours
from paystage.metrics import WAITED_BUCKETS, Metrics
from paystage.settings import SettingError, Settings, Unavailable
from paystage.worker import Worker
from sandbox import LocalBotAPI, LocalTwilioAPI
from sms.app import create_app
from sms.sender import TwilioSender
from storage.models import OutboxMessage
from tests.bot_harness import Chat
from tests.run_harness import ROOT, free_port, paystage_run, stop

ALWAYS = DeliveryPolicy(quiet_hours=QuietHours.parse("off"), sms_interval=None, telegram_chat_interval=None,
                        telegram_interval=None)
PUBLIC = "https://pay.example"
DANA = "+14155550134"


def scrape(port: int) -> dict[tuple, float]:
    """Every sample of 127.0.0.1:`port`/metrics by (name, labels), as Prometheus would read it."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


@pytest.fixture
def metrics(clock, database):
    metrics = Metrics(clock, database)
    metrics.port = metrics.serve(0)
    yield metrics
    metrics.close()


def test_metrics_after_a_story_count_what_happened(ctx, clock, contractor, planned, twilio_api, metrics):
    sms = TwilioSender(twilio_api.account_sid, twilio_api.auth_token, from_number="+14155550100",
                       api_base_url=twilio_api.base_url, timeout=5)
    dispatcher = Dispatcher(clock, {"sms": sms, "telegram": LoggingSender("telegram")}, ALWAYS,
                            observe=metrics.observe)
    worker = Worker(ctx, dispatcher, scan_every=timedelta(seconds=30))
    web = create_app(ctx, public_base_url=PUBLIC, twilio_auth_token=twilio_api.auth_token,
                     on_request=metrics.on_request).test_client()

    clock.advance(minutes=2)  # the plan was sent two minutes ago: its two texts wait, due since then
    waiting = scrape(metrics.port)
    assert value(waiting, "paystage_outbox_queued", channel="sms") == 2
    assert value(waiting, "paystage_outbox_oldest_due_seconds", channel="sms") == 120
    assert value(waiting, "paystage_scheduler_last_turn_timestamp_seconds") is None  # no worker has turned

    twilio_api.fail_next(1, status=500)  # the consent text fails once; the plan goes
    dispatcher.drain()
    clock.advance(minutes=1)
    dispatcher.drain()  # the consent text, after its backoff
    record_payment(ctx, contractor, planned, 100_000, "cash")
    dispatcher.drain()  # its receipt, at once
    clock.advance(days=9)
    mark_event_done(ctx, contractor, planned, "Removal")  # the removal's $1,000.00 falls due
    worker.scan()
    turned_at = clock()
    clock.advance(seconds=5)
    dispatcher.drain()
    twilio_api.reject(DANA, code=21211)  # and then the number is refused for good
    record_payment(ctx, contractor, planned, 100_000, "check")
    dispatcher.drain()
    form = {"MessageSid": "SM" + "7" * 32, "From": DANA, "To": "+14155550100", "Body": "BAL"}
    signature = RequestValidator(twilio_api.auth_token).compute_signature(PUBLIC + "/sms/inbound", form)
    assert web.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": signature}).status_code == 200
    assert web.get("/healthz").status_code == 200
    assert web.get("/nowhere").status_code == 404

    seen = scrape(metrics.port)
    rows = list(OutboxMessage.select())
    sent = sorted((m for m in rows if m.state == "sent" and m.channel == "sms"), key=lambda m: (m.sent_at, m.id))
    assert [m.kind for m in sent] == ["plan", "consent", "receipt", "payment_due"]  # the order they went in
    assert len(twilio_api.messages) == 4
    attempts = {(channel, outcome): value(seen, "paystage_send_attempts_total", channel=channel, outcome=outcome)
                for channel in ("sms", "telegram") for outcome in ("sent", "failed", "permanent")}
    telegram_sent = sum(m.state == "sent" and m.channel == "telegram" for m in rows)
    assert attempts == {("sms", "sent"): 4, ("sms", "failed"): 1, ("sms", "permanent"): 1,
                        ("telegram", "sent"): telegram_sent, ("telegram", "failed"): 0,
                        ("telegram", "permanent"): 0}
    assert [m.kind for m in rows if m.state == "failed"] == ["receipt"]

    waited = [(m.sent_at - m.created_at).total_seconds() for m in sent]
    assert waited == [120, 180, 0, 5]  # the plan at the first drain, the consent a minute on, ...
    assert value(seen, "paystage_queued_to_sent_seconds_count", channel="sms") == 4
    assert value(seen, "paystage_queued_to_sent_seconds_sum", channel="sms") == sum(waited)
    for bound in WAITED_BUCKETS:
        assert value(seen, "paystage_queued_to_sent_seconds_bucket", channel="sms", le=floatToGoString(bound)) == \
            sum(w <= bound for w in waited), bound

    assert value(seen, "paystage_http_requests_total", route="/sms/inbound", status="200") == 1
    assert value(seen, "paystage_http_request_duration_seconds_count", route="/sms/inbound") == 1
    assert value(seen, "paystage_http_requests_total", route="/healthz", status="200") == 1
    assert value(seen, "paystage_http_requests_total", route="unmatched", status="404") == 1  # never the path itself

    assert value(seen, "paystage_outbox_queued", channel="sms") == 0
    assert value(seen, "paystage_outbox_oldest_due_seconds", channel="sms") == 0
    assert value(seen, "paystage_scheduler_last_turn_timestamp_seconds") == turned_at.timestamp()
    assert value(seen, "paystage_scheduler_last_turn_duration_seconds") >= 0
    assert value(seen, "paystage_database_up") == 1
    assert value(seen, "paystage_bot_updates_total") == 0  # no bot in this story


def test_a_message_held_for_quiet_hours_waits_without_being_late(ctx, clock, planned, metrics):
    """Held texts are queued but not due: the oldest-due gauge is for texts that should have gone and did not."""
    dispatcher = Dispatcher(clock, {"sms": LoggingSender("sms"), "telegram": LoggingSender("telegram")},
                            DeliveryPolicy(quiet_hours=QuietHours.parse("00:00-23:59"), sms_interval=None,
                                           telegram_chat_interval=None, telegram_interval=None),
                            observe=metrics.observe)
    dispatcher.drain()
    clock.advance(minutes=10)
    seen = scrape(metrics.port)
    assert value(seen, "paystage_outbox_queued", channel="sms") == 2
    assert value(seen, "paystage_outbox_oldest_due_seconds", channel="sms") == 0
    assert value(seen, "paystage_send_attempts_total", channel="sms", outcome="sent") == 0


def test_the_bot_counts_each_update_it_takes_in(api, bot, metrics):
    metrics.watch_bot(bot.app)
    chat = Chat(api, bot, chat_id=555)
    chat.say("/start")
    chat.say("/help")
    assert value(scrape(metrics.port), "paystage_bot_updates_total") == 2


def test_a_database_that_does_not_answer_is_a_zero_not_an_error(clock, tmp_path):
    from peewee import SqliteDatabase

    metrics = Metrics(clock, SqliteDatabase(str(tmp_path / "no such folder" / "paystage.sqlite3")))
    port = metrics.serve(0)
    try:
        seen = scrape(port)
    finally:
        metrics.close()
    assert value(seen, "paystage_database_up") == 0
    assert value(seen, "paystage_outbox_queued", channel="sms") is None


def test_metrics_are_served_on_loopback_only_and_a_taken_port_is_one_line(clock):
    metrics = Metrics(clock)
    try:
        port = metrics.serve(0)
        assert metrics._server.server_address[0] == "127.0.0.1"
        with pytest.raises(Unavailable, match=f"^METRICS_PORT={port}: 127.0.0.1:{port} is not free"):
            Metrics(clock).serve(port)
    finally:
        metrics.close()


def test_metrics_port_is_off_unless_set_and_checked_when_set(tmp_path):
    base = {"PAYSTAGE_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).metrics_port is None
    assert Settings.from_env({**base, "METRICS_PORT": "9464"}).metrics_port == 9464
    with pytest.raises(SettingError, match="^METRICS_PORT='http' must be a port number"):
        Settings.from_env({**base, "METRICS_PORT": "http"})


# -- the commands ------------------------------------------------------------------------------------------------


def test_paystage_web_and_worker_each_serve_what_they_know_and_share_the_workers_turn(tmp_path):
    env = _environment(tmp_path)
    worker_metrics, web_metrics, web_port = free_port(), free_port(), free_port()
    worker = _start("worker", tmp_path, {**env, "METRICS_PORT": str(worker_metrics)})
    web = None
    try:
        turned = _eventually(lambda: value(_scrape_or_none(worker_metrics) or {},
                                           "paystage_scheduler_last_turn_timestamp_seconds"), worker, tmp_path)
        web = _start("web", tmp_path, {**env, "METRICS_PORT": str(web_metrics), "PORT": str(web_port)})
        health = _eventually(lambda: _get_or_none(f"http://127.0.0.1:{web_port}/healthz"), web, tmp_path)
        assert health == (200, {"status": "ok"})
        from_web = scrape(web_metrics)
        from_worker = scrape(worker_metrics)
    finally:
        for process in (web, worker):
            if process:
                stop(process)
    # the worker's turn, recorded in the database, is what the web app tells
    assert value(from_web, "paystage_scheduler_last_turn_timestamp_seconds") >= turned
    assert value(from_web, "paystage_http_requests_total", route="/healthz", status="200") == 1
    assert value(from_worker, "paystage_http_requests_total", route="/healthz", status="200") is None
    assert value(from_worker, "paystage_database_up") == value(from_web, "paystage_database_up") == 1


def test_paystage_run_serves_the_bot_the_web_app_and_the_worker_on_one_port(tmp_path):
    port = free_port()
    with (LocalBotAPI() as telegram, LocalTwilioAPI() as twilio,
          paystage_run(tmp_path, telegram, twilio, env={"METRICS_PORT": str(port)}) as (story, process)):
        story.say("/start")
        created = story.say("/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000")["text"]
        ref = re.search(r"J-[A-Z0-9]{4,6}", created).group()
        story.say(f"/event {ref} Measurement, in 3 days 9am")
        preview = story.say(f"/plan {ref} 25% before measurement, rest after measurement")
        story.tap(preview, "Send to customer")
        story.texts_after(0, 2)
        assert story.customer_texts("BAL")
        seen = _eventually(lambda: (s := scrape(port)) and value(
            s, "paystage_send_attempts_total", channel="sms", outcome="sent") == 2 and s, process, tmp_path)
    assert len(twilio.messages) == 2
    assert value(seen, "paystage_bot_updates_total") == 5  # /start, /newjob, /event, /plan and the tap
    assert value(seen, "paystage_http_requests_total", route="/sms/inbound", status="200") == 1
    assert value(seen, "paystage_scheduler_last_turn_timestamp_seconds") > 0


def _environment(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAYSTAGE_", "DATABASE_URL", "TWILIO_", "TELEGRAM_", "STRIPE_", "METRICS_"))}
    env.update(PAYSTAGE_DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'paystage.sqlite3'}",
               PYTHONUNBUFFERED="1")
    return env


def _start(command: str, tmp_path, env: dict[str, str]) -> subprocess.Popen:
    log = open(tmp_path / f"{command}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "paystage.cli", command], env=env, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT)


def _eventually(ready, process: subprocess.Popen, tmp_path, timeout: float = 30):
    """ready()'s first truthy answer; the process's log when it ends or does not get there."""
    deadline = time.monotonic() + timeout
    while not (answer := ready()):
        if time.monotonic() > deadline or process.poll() is not None:
            logs = "\n".join(f"{path.name}:\n{path.read_text()}" for path in sorted(tmp_path.glob("*.log")))
            pytest.fail(f"{process.args[-1]} did not get there:\n{logs}")
        time.sleep(0.1)
    return answer


def _scrape_or_none(port: int) -> dict | None:
    try:
        return scrape(port)
    except OSError:
        return None


def _get_or_none(url: str) -> tuple[int, dict] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())
    except OSError:
        return None
