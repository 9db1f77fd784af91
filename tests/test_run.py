"""`paystage run` as a user runs it: one process, the fake Bot API and the fake Twilio standing in for the world.

The countertop story of DESIGN.md from /newjob to the last receipt, both ways:
the contractor in Telegram (polling), the customer by SMS (signed webhooks),
every text leaving through the worker's outbox to the fake Twilio.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from itertools import count
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from tests.fakes import FakeBotAPI, FakeTwilioAPI

ROOT = Path(__file__).resolve().parent.parent
CHAT = 555
DANA = "+14155550134"
sids = (f"SM{n:032d}" for n in count(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Story:
    def __init__(self, telegram: FakeBotAPI, twilio: FakeTwilioAPI, base: str):
        self.telegram, self.twilio, self.base = telegram, twilio, base

    def say(self, text: str, reply_to: int | None = None) -> dict:
        """The contractor sends `text`; returns the bot's next message in the chat."""
        before = len(self.telegram.sent)
        self.telegram.push_message(CHAT, text, first_name="Granite & Co", reply_to=reply_to)
        return self.telegram.wait_for_sent(before + 1, timeout=20)[before]

    def tap(self, message: dict, label: str) -> dict:
        before = len(self.telegram.sent)
        data = {b["text"]: b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row}
        self.telegram.push_callback(CHAT, message["message_id"], data[label])
        return self.telegram.wait_for_sent(before + 1, timeout=20)[before]

    def texts_after(self, before: int, count_: int = 1) -> list[str]:
        return [m["body"] for m in self.twilio.wait_for(before + count_, timeout=20)[before:]]

    def customer_texts(self, body: str) -> str | None:
        form = {"MessageSid": next(sids), "From": DANA, "To": "+14155550100", "Body": body}
        signature = RequestValidator(self.twilio.auth_token).compute_signature(self.base + "/sms/inbound", form)
        request = urllib.request.Request(self.base + "/sms/inbound", data=urllib.parse.urlencode(form).encode(),
                                         headers={"X-Twilio-Signature": signature})
        with urllib.request.urlopen(request, timeout=10) as response:
            message = ET.fromstring(response.read()).find("Message")
        return message.text if message is not None else None


@pytest.fixture
def running(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with FakeBotAPI() as telegram, FakeTwilioAPI() as twilio:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PAYSTAGE_", "DATABASE_URL", "TWILIO_", "TELEGRAM_"))}
        env.update(PAYSTAGE_DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
                   PORT=str(port), PUBLIC_BASE_URL=base, PAYSTAGE_QUIET_HOURS="off", PAYSTAGE_SMS_PER_SECOND="0",
                   TWILIO_ACCOUNT_SID=twilio.account_sid, TWILIO_AUTH_TOKEN=twilio.auth_token,
                   TWILIO_FROM_NUMBER="+14155550100", TWILIO_API_BASE_URL=twilio.base_url,
                   TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_API_BASE_URL=telegram.base_url,
                   PYTHONUNBUFFERED="1")
        log = open(tmp_path / "run.log", "w")
        process = subprocess.Popen([sys.executable, "-m", "paystage.cli", "run"], env=env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while not telegram.calls_to("getUpdates"):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("paystage run did not start:\n" + (tmp_path / "run.log").read_text())
                time.sleep(0.1)
            yield Story(telegram, twilio, base), process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            log.close()


def test_paystage_run_carries_the_countertop_story_both_ways(running, tmp_path):
    story, process = running
    assert "Welcome" in story.say("/start")["text"]
    created = story.say("/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000")["text"]
    ref = re.search(r"J-[A-Z0-9]{4,6}", created).group()
    for line in ("Measurement, in 3 days 9am", "Removal, in 10 days 8am", "Installation, in 17 days 9am"):
        assert "Added" in story.say(f"/event {ref} {line}")["text"]
    preview = story.say(f"/plan {ref} 25% before measurement, 25% after removal, 50% after installation")
    assert "$1,000.00" in preview["text"]
    assert "Plan sent" in story.tap(preview, "Send to customer")["text"]
    [plan] = story.texts_after(0)
    assert "$4,000.00" in plan and "/p/" in plan

    balance = story.customer_texts("BAL")
    assert "$4,000.00" in balance and ref in balance

    assert "passed your message" in story.customer_texts("Can the crew come a bit earlier?")
    relayed = story.telegram.wait_for_sent(len(story.telegram.sent), timeout=20)[-1]
    deadline = time.monotonic() + 20
    while "a bit earlier" not in relayed["text"] and time.monotonic() < deadline:
        time.sleep(0.1)
        relayed = story.telegram.sent[-1]
    assert "Dana Whitfield" in relayed["text"]
    assert "Sent to Dana" in story.say("Sure, 8am works.", reply_to=relayed["message_id"])["text"]
    assert story.texts_after(1) == ["Sure, 8am works."]

    assert "texted" in story.say(f"/done {ref} removal")["text"]
    [due] = story.texts_after(2)
    assert "$1,000.00 is now due" in due
    assert "Recorded $1,000.00" in story.say(f"/paid {ref} 1000 check")["text"]
    [receipt] = story.texts_after(3)
    assert "We received $1,000.00" in receipt

    preview = story.say(f"/price {ref} 4850")
    assert "$4,000.00 -> $4,850.00" in preview["text"]
    assert "now $4,850.00" in story.tap(preview, "Apply")["text"]
    [changed] = story.texts_after(4)
    assert "$4,850.00" in changed
    assert "$4,850.00" in story.customer_texts("YES")

    story.say(f"/done {ref} measure")
    story.say(f"/done {ref} install")
    dues = story.texts_after(5, 2)
    # the $1,000.00 paid went to the removal payment that was due; the rest spread over the other two
    assert any("$1,283.33" in d for d in dues) and any("$2,566.67" in d for d in dues)
    story.say(f"/paid {ref} 3850 transfer")
    [last] = story.texts_after(7)
    assert "paid in full" in last

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert "stopping" in (tmp_path / "run.log").read_text()
