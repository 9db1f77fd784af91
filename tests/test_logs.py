"""No secret given to the process reaches its log, from any logger, at any level, in any form; no phone number
either, nor at INFO a message's words; and the log a machine reads (PAYSTAGE_LOG_FORMAT=json) is one object a line."""

import io
import json
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from twilio.request_validator import RequestValidator

from core.delivery import LoggingSender, Outgoing
from paystage.logs import REDACTED, JsonFormatter, RedactingFormatter
from paystage.settings import SettingError, Settings
from sandbox import LocalBotAPI, LocalTwilioAPI
from tests.run_harness import DANA, ROOT, free_port, paystage_run

TOKEN = f"123456789:AAE{secrets.token_urlsafe(24)}"
WORDS = 24  # characters of a message that would be its words in the log: more than any name, phrase or address


def formatted(record_logger, secret_list, *args, exc: Exception | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(secret_list))
    logger = logging.getLogger(f"test.logs.{secrets.token_hex(4)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        if exc:
            try:
                raise exc
            except Exception:
                logger.exception(*args)
        else:
            record_logger(logger, *args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_secret_in_a_message_its_arguments_or_a_traceback_is_redacted():
    debug = formatted(logging.Logger.debug, [TOKEN], "Set Bot API URL: https://api.telegram.org/bot%s", TOKEN)
    assert TOKEN not in debug and f"bot{REDACTED}" in debug
    traceback = formatted(None, [TOKEN], "sending failed", exc=RuntimeError(f"GET /bot{TOKEN}/getMe refused"))
    assert TOKEN not in traceback and "RuntimeError" in traceback


def test_a_percent_encoded_secret_is_redacted_too():
    encoded = urllib.parse.quote(TOKEN, safe="")
    line = formatted(logging.Logger.info, [TOKEN], "POST https://example.test/?token=%s", encoded)
    assert encoded not in line and REDACTED in line


def test_a_very_short_secret_does_not_blot_out_ordinary_words():
    line = formatted(logging.Logger.info, ["pw"], "a pwd of two letters")
    assert line.endswith(": a pwd of two letters\n")


def test_paystage_run_at_debug_logs_no_secret_it_was_given(tmp_path):
    """The whole product at DEBUG, webhook mode: start-up, a Telegram update, a signed text, a sent text, stop."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    webhook_secret = secrets.token_urlsafe(24)
    secret_key = secrets.token_urlsafe(32)
    with LocalBotAPI(token=TOKEN) as telegram, LocalTwilioAPI() as twilio:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PAYSTAGE_", "DATABASE_URL", "TWILIO_", "TELEGRAM_"))}
        env.update(PAYSTAGE_DATA_DIR=str(tmp_path), PAYSTAGE_LOG_LEVEL="DEBUG", PAYSTAGE_SECRET_KEY=secret_key,
                   DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
                   PORT=str(port), PUBLIC_BASE_URL=base, PAYSTAGE_QUIET_HOURS="off", PAYSTAGE_SMS_PER_SECOND="0",
                   TWILIO_ACCOUNT_SID=twilio.account_sid, TWILIO_AUTH_TOKEN=twilio.auth_token,
                   TWILIO_FROM_NUMBER="+14155550100", TWILIO_API_BASE_URL=twilio.base_url,
                   TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=telegram.base_url, TELEGRAM_MODE="webhook",
                   TELEGRAM_WEBHOOK_SECRET=webhook_secret, PYTHONUNBUFFERED="1")
        log_path = tmp_path / "run.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen([sys.executable, "-m", "paystage.cli", "run"], env=env, cwd=ROOT,
                                       stdout=log, stderr=subprocess.STDOUT)
            try:
                _wait(lambda: telegram.webhook.get("url"), process, log_path)
                _post(f"{base}/telegram/webhook", json.dumps(telegram.make_message_update(555, "/start")).encode(),
                      {"X-Telegram-Bot-Api-Secret-Token": webhook_secret, "Content-Type": "application/json"})
                telegram.wait_for_sent(1, timeout=20)
                form = {"MessageSid": "SM" + "1" * 32, "From": "+14155550134", "To": "+14155550100", "Body": "BAL"}
                signature = RequestValidator(twilio.auth_token).compute_signature(f"{base}/sms/inbound", form)
                _post(f"{base}/sms/inbound", urllib.parse.urlencode(form).encode(), {"X-Twilio-Signature": signature})
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    text = log_path.read_text()
    assert "DEBUG" in text and REDACTED in text  # the libraries did log their URLs, and were redacted
    for name, secret in {"bot token": TOKEN, "webhook secret": webhook_secret, "Twilio auth token": twilio.auth_token,
                         "secret key": secret_key, "token, URL-encoded": urllib.parse.quote(TOKEN, safe="")}.items():
        assert secret not in text, f"the {name} is in the log"


def test_every_secret_setting_is_one_the_log_keeps_out(tmp_path):
    settings = Settings.from_env({
        "PAYSTAGE_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://paystage:db-password-1@db:5432/paystage",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "twilio-auth-token-1",
        "TWILIO_FROM_NUMBER": "+14155550100",
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "webhook-secret-1"})
    assert set(settings.secrets()) == {settings.secret_key, "db-password-1", "twilio-auth-token-1", TOKEN,
                                       "webhook-secret-1"}


def _wait(ready, process, log_path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline or process.poll() is not None:
            pytest.fail("paystage run did not start:\n" + log_path.read_text())
        time.sleep(0.1)


def _post(url: str, data: bytes, headers: dict) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10) as response:
        assert response.status == 200


# -- phone numbers and message bodies -------------------------------------------------------------------------------


def test_a_phone_number_keeps_its_last_four_digits_in_any_line():
    line = formatted(logging.Logger.info, [], "Twilio refused %s; posted To=%s&Body=hi", DANA, "%2B14155550134")
    assert "4155550134" not in line
    assert "refused +•••••••0134;" in line and "To=%2B•••••••0134&" in line
    short = formatted(logging.Logger.warning, [], "+44 20: +4420794601 and +861012345678901", exc=None)
    assert "+•••••••0134" not in short and "+•••••••4601" in short and "+•••••••8901" in short


def test_what_is_not_a_phone_number_is_left_alone():
    text = "at 2026-12-01T13:30:00+00:00 (+0100), 12 in 1e+123456789, order 14155550134, +1234567, x+14155550134"
    assert formatted(logging.Logger.info, [], text).endswith(f": {text}\n")


def test_a_phone_number_in_a_traceback_is_masked_too():
    line = formatted(None, [], "sending failed", exc=RuntimeError(f"The 'To' number {DANA} is not valid"))
    assert DANA not in line and "+•••••••0134 is not valid" in line


def test_the_json_log_is_one_object_a_line_with_the_job_and_nothing_it_must_not_hold():
    secret = 'tok"en\\with-quotes-1'  # a secret that JSON escapes: redacted before encoding, or it would slip past
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter([secret]))
    logger = logging.getLogger(f"test.logs.{secrets.token_hex(4)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logging.LoggerAdapter(logger, {"job": "J-7K2Q"}).info("sms plan for J-7K2Q sent to %s", DANA)
        try:
            raise RuntimeError(f"GET /bot{secret}/getMe refused")
        except RuntimeError:
            logger.exception("polling failed")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    sent, failed = map(json.loads, lines)
    assert set(sent) == {"time", "level", "logger", "message", "job"} and sent["job"] == "J-7K2Q"
    assert sent["level"] == "INFO" and sent["message"] == "sms plan for J-7K2Q sent to +•••••••0134"
    assert sent["time"].endswith("+00:00")
    assert "job" not in failed and failed["level"] == "ERROR" and "RuntimeError" in failed["exception"]
    assert secret not in stream.getvalue() and json.dumps(secret)[1:-1] not in stream.getvalue()
    assert REDACTED in failed["exception"]


def test_the_log_format_is_text_or_json(tmp_path):
    base = {"PAYSTAGE_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).log_format == "text"
    assert Settings.from_env({**base, "PAYSTAGE_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(SettingError, match="^PAYSTAGE_LOG_FORMAT='xml' must be text or json"):
        Settings.from_env({**base, "PAYSTAGE_LOG_FORMAT": "xml"})


def test_paystage_run_at_info_logs_no_phone_number_and_no_message_body(tmp_path):
    """The countertop story through the real product, its log in JSON: a line a machine parses for every event, the
    sent texts named by their job, and not one of the customer's digits or anyone's words in it."""
    with (LocalBotAPI() as telegram, LocalTwilioAPI() as twilio,
          paystage_run(tmp_path, telegram, twilio, env={"PAYSTAGE_LOG_FORMAT": "json"}) as (story, process)):
        story.say("/start")
        created = story.say("/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000")["text"]
        ref = re.search(r"J-[A-Z0-9]{4,6}", created).group()
        for line in ("Measurement, in 3 days 9am", "Removal, in 10 days 8am"):
            story.say(f"/event {ref} {line}")
        story.tap(story.say(f"/plan {ref} 25% before measurement, rest after removal"), "Send to customer")
        story.texts_after(0, 2)
        said = ["Can the crew come a bit earlier?", "BAL"]
        answers = [story.customer_texts(text) for text in said]
        story.tap(story.say(f"/done {ref} removal"), "Mark Removal done anyway")
        story.texts_after(2)  # the removal's payment, due
        _wait(lambda: sum(f'"job": "{ref}"' in line and " sent (SM" in line
                          for line in (tmp_path / "run.log").read_text().splitlines()) >= 3, process,
              tmp_path / "run.log")
    lines = (tmp_path / "run.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line, whoever wrote it
    assert {"time", "level", "logger", "message"} <= set().union(*entries)
    assert {e["level"] for e in entries} <= {"INFO", "WARNING"}
    sent = [e for e in entries if e["logger"] == "core.dispatcher" and " sent (SM" in e["message"]]
    assert {e["message"].split(" for ")[0] for e in sent} >= {"sms consent", "sms plan", "sms payment_due"}
    assert all(e["job"] == ref for e in sent)
    text = "\n".join(lines)
    assert not re.search(r"415\D{0,2}555\D?0134", text), "the customer's number is in the log"
    bodies = [m["body"] for m in twilio.messages] + [m["text"] for m in telegram.sent] + said + answers
    for body in map(lambda body: json.dumps(body)[1:-1], bodies):  # as the JSON log would hold them
        for start in range(0, max(len(body) - WORDS, 0) + 1, 4):  # any run of words, whole or cut short
            assert body[start:start + WORDS] not in text, f"a message's words are in the log: {body!r}"


def test_a_text_with_no_provider_to_go_to_is_logged_at_debug_only(caplog):
    """Without Twilio or Telegram settings a message is written to the log: its words and whom it is to, at DEBUG."""
    caplog.set_level(logging.DEBUG, logger="core.delivery")
    body = "Granite & Co: your payment of $1,000.00 is now due"
    LoggingSender("sms").send(Outgoing(12, "sms", DANA, body, "payment_due"))
    [record] = caplog.records
    assert record.levelno == logging.DEBUG and body in record.getMessage()
