"""The sandbox's world: Telegram, Twilio and Stripe on loopback, and the visitor who is both contractor and customer.

`paystage run` with no accounts starts one Sandbox, points the real product at it with `env()`, and serves the
sandbox page (sandbox/web.py) over it. Nothing here is a shortcut into the product: the visitor's chat messages and
taps are updates the bot fetches with getUpdates, as from Telegram; a customer's text is an HTTP POST to the app's
/sms/inbound signed with the auth token, as Twilio signs it; and what the product sends reaches the local servers
through its real clients.

    world = Sandbox("http://127.0.0.1:8000").start()
    settings = Settings.from_env({**env, **world.env()})
    world.say("/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000")  # the contractor types
    world.tap(7, "send:J-7K2Q")                             # ... and taps a button under the bot's message 7
    world.text_in("+14155550134", "BAL")                    # the customer texts; -> the app's answer
    world.chat(), world.phones()                            # what each side sees
"""

import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone

from twilio.request_validator import RequestValidator

from .stripe_api import LocalStripeAPI
from .telegram_api import LocalBotAPI
from .twilio_api import LocalTwilioAPI

OUR_NUMBER = "+15005550006"  # the number customers text; Twilio's test number that always accepts a send
INBOUND_TIMEOUT = 15  # seconds the app has to answer a text, as Twilio gives it


@dataclass(frozen=True)
class Text:
    """One SMS on a customer's phone: `incoming` from our number (by the API or as the answer to their text),
    or typed on the phone and sent to us."""

    phone: str  # the customer's number, E.164
    body: str
    at: datetime
    incoming: bool
    answer: bool = False  # the TwiML answer to a text they sent, not a message the worker sent


@dataclass
class PhoneLog:
    """What the customer side did that Twilio's Messages API does not record: their texts and the answers."""

    texts: list[Text] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, text: Text) -> None:
        with self.lock:
            self.texts.append(text)


class InboundFailed(Exception):
    """The app did not take a customer's text: it could not be reached, or answered with an error status."""


class Sandbox:
    """The local world `paystage run` runs against with no accounts: Telegram, Twilio and Stripe on loopback."""

    def __init__(self, public_base_url: str, *, visitor_id: int = 1001, visitor_name: str = "Granite & Co"):
        self.public_base_url = public_base_url.rstrip("/")
        self.visitor_id = visitor_id
        self.visitor_name = visitor_name
        # a token of this run's own: a bot token left in a shell's history from one run is no use to the next
        self.bot_api = LocalBotAPI(f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(26)}",
                                   bot_username="paystage_sandbox_bot", first_name="Paystage")
        self.twilio_api = LocalTwilioAPI()
        self.stripe_api = LocalStripeAPI()
        self.stripe_webhook_secret = ""
        self.our_number = OUR_NUMBER
        self._phone_log = PhoneLog()
        # direct: a proxy in the environment (HTTP_PROXY) must not carry a text meant for this machine
        self._http = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start(self) -> "Sandbox":
        """Start the three servers; Stripe delivers its events to the app's /stripe/webhook from now on."""
        for server in (self.bot_api, self.twilio_api, self.stripe_api):
            server.start()
        self.stripe_webhook_secret = self.stripe_api.add_endpoint(self.public_base_url + "/stripe/webhook")
        return self

    def close(self) -> None:
        for server in (self.stripe_api, self.twilio_api, self.bot_api):
            server.close()

    def env(self) -> dict[str, str]:
        """The settings that point the real product at the local servers; and no quiet hours, as the visitor is
        the customer too: a text held until 8 AM would leave their phone empty all evening."""
        return {
            "PAYSTAGE_QUIET_HOURS": "off",
            "TELEGRAM_BOT_TOKEN": self.bot_api.token,
            "TELEGRAM_API_BASE_URL": self.bot_api.base_url,
            "TWILIO_ACCOUNT_SID": self.twilio_api.account_sid,
            "TWILIO_AUTH_TOKEN": self.twilio_api.auth_token,
            "TWILIO_FROM_NUMBER": self.our_number,
            "TWILIO_API_BASE_URL": self.twilio_api.base_url,
            "STRIPE_SECRET_KEY": self.stripe_api.secret_key,
            "STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
            "STRIPE_API_BASE_URL": self.stripe_api.base_url,
        }

    # --- the contractor: a Telegram user in a private chat with the bot ------------------------------

    def say(self, text: str, reply_to: int | None = None) -> dict:
        """The visitor sends `text` in their chat (a reply to the message `reply_to`); the queued update.
        A command gets its bot_command entity, as Telegram's apps send it. KeyError: no such message to reply to."""
        return self.bot_api.push_message(self.visitor_id, text, first_name=self.visitor_name, reply_to=reply_to)

    def tap(self, message_id: int, data: str) -> dict:
        """The visitor taps the button carrying `data` under the bot's message; the queued callback_query update.
        KeyError: no such message; ValueError: not the bot's, or no such button under it now."""
        message = self.bot_api.message(self.visitor_id, message_id)
        if message is None:
            raise KeyError(f"no message {message_id} in the chat")
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        if data not in [button.get("callback_data") for row in rows for button in row]:
            raise ValueError(f"message {message_id} has no such button (any more)")
        return self.bot_api.push_callback(self.visitor_id, message_id, data)

    def chat(self) -> list[dict]:
        """The visitor's chat with the bot as Telegram would show it: every message, theirs and the bot's, as
        they are now, oldest first."""
        return self.bot_api.chat(self.visitor_id)

    # --- the customers: phones that text our number ---------------------------------------------------

    def text_in(self, phone: str, body: str) -> list[str]:
        """The customer at `phone` texts `body` to our number: Twilio's webhook, signed as Twilio signs it, POSTed
        to the app's /sms/inbound. Returns the texts of its TwiML answer (none, or one), which reach the phone.
        InboundFailed when the app cannot be reached or refuses the request."""
        sid = "SM" + secrets.token_hex(16)
        form = {"ToCountry": "US", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received",
                "Body": body, "To": self.our_number, "NumSegments": "1", "MessageSid": sid,
                "AccountSid": self.twilio_api.account_sid, "From": phone, "ApiVersion": "2010-04-01"}
        url = self.public_base_url + "/sms/inbound"
        signature = RequestValidator(self.twilio_api.auth_token).compute_signature(url, form)
        request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), headers={
            "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1"})
        self._phone_log.add(Text(phone, body, _now(), incoming=False))
        try:
            with self._http.open(request, timeout=INBOUND_TIMEOUT) as response:
                twiml = response.read()
        except urllib.error.HTTPError as error:
            error.close()
            raise InboundFailed(f"the app answered the text with HTTP {error.code}") from None
        except OSError as error:
            raise InboundFailed(f"the app could not be reached at {url}: {error}") from None
        try:
            answers = [m.text or "" for m in ET.fromstring(twiml).iter("Message")]
        except ET.ParseError:
            raise InboundFailed("the app answered the text with something that is not TwiML") from None
        for answer in answers:
            self._phone_log.add(Text(phone, answer, _now(), incoming=True, answer=True))
        return answers

    def phones(self) -> dict[str, list[Text]]:
        """Each customer phone's texts, both ways, oldest first: what Twilio sent it, what it texted us and the
        answers; phones in the order they first received or sent a text."""
        sent = [Text(m["to"], m["body"], m["received_at"], incoming=True) for m in self.twilio_api.messages]
        with self._phone_log.lock:
            texts = sent + list(self._phone_log.texts)
        by_phone: dict[str, list[Text]] = {}
        for text in sorted(texts, key=lambda t: t.at):  # stable: an answer stays after the text it answers
            by_phone.setdefault(text.phone, []).append(text)
        return by_phone


def _now() -> datetime:
    return datetime.now(timezone.utc)
