"""`paystage run` as a user runs it, for the tests that start it: one process, the local APIs standing in for the world.

    with LocalBotAPI() as telegram, LocalTwilioAPI() as twilio, paystage_run(tmp_path, telegram, twilio) as running:
        story, process = running
        story.say("/start")

The contractor talks to the bot in Telegram (polling, through the local Bot API), the customer texts by SMS (signed
webhooks to the process), and every text leaves through the worker's outbox to the local Twilio. Given neither, the
process is the sandbox, the world its own (`paystage_run(tmp_path)`), and has started when it prints the address to
open. The process's
settings come from the environment only, stripped of the developer's own PAYSTAGE_, TWILIO_, TELEGRAM_ and STRIPE_
variables; its output goes to run.log, shown when it does not start.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from itertools import count
from pathlib import Path

from twilio.request_validator import RequestValidator

from sandbox import LocalBotAPI, LocalTwilioAPI

ROOT = Path(__file__).resolve().parent.parent
CHAT = 555
DANA = "+14155550134"
sids = (f"SM{n:032d}" for n in count(1))


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, as a service manager stops it; SIGKILL if it has not stopped within `timeout`."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Story:
    def __init__(self, telegram: LocalBotAPI | None, twilio: LocalTwilioAPI | None, base: str):
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


@contextmanager
def paystage_run(tmp_path: Path, telegram: LocalBotAPI | None = None, twilio: LocalTwilioAPI | None = None, *,
                 port: int | None = None, env: dict[str, str] | None = None):
    """`python -m paystage.cli run` on `port` (a free one by default) with `env` on top, until the block ends;
    (Story, the process) once the bot polls, or, without `telegram` and `twilio`, once the sandbox says to open it."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PAYSTAGE_", "DATABASE_URL", "TWILIO_", "TELEGRAM_", "STRIPE_"))}
    environment.update(PAYSTAGE_DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
                       PORT=str(port), PUBLIC_BASE_URL=base, PAYSTAGE_QUIET_HOURS="off", PAYSTAGE_SMS_PER_SECOND="0",
                       PYTHONUNBUFFERED="1")
    if twilio:
        environment.update(TWILIO_ACCOUNT_SID=twilio.account_sid, TWILIO_AUTH_TOKEN=twilio.auth_token,
                           TWILIO_FROM_NUMBER="+14155550100", TWILIO_API_BASE_URL=twilio.base_url)
    if telegram:
        environment.update(TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_API_BASE_URL=telegram.base_url)
    environment.update(env or {})
    log = open(tmp_path / "run.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "paystage.cli", "run"], env=environment, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)

    def started() -> bool:
        if telegram:
            return bool(telegram.calls_to("getUpdates"))
        return f"Open {base}/" in (tmp_path / "run.log").read_text()

    try:
        deadline = time.monotonic() + 30
        while not started():
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError("paystage run did not start:\n" + (tmp_path / "run.log").read_text())
            time.sleep(0.1)
        yield Story(telegram, twilio, base), process
    finally:
        stop(process)
        log.close()
