"""No secret given to the process reaches its log, from any logger, at any level, in any form."""

import io
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from twilio.request_validator import RequestValidator

from paystage.logs import REDACTED, RedactingFormatter
from paystage.settings import Settings
from sandbox import LocalBotAPI, LocalTwilioAPI
from tests.run_harness import ROOT, free_port

TOKEN = f"123456789:AAE{secrets.token_urlsafe(24)}"


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
