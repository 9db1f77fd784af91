"""A local stand-in for Twilio's Messages REST API, over real HTTP on 127.0.0.1.

It answers what twilio-python's `Client.messages.create` sends: `POST
/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded `To`, `From` or
`MessagingServiceSid`, `Body`, `StatusCallback`, HTTP Basic auth `SID:TOKEN`,
and answers the way Twilio does: 201 with a Message resource, or Twilio's error
JSON (`code`, `message`, `more_info`, `status`) with the real HTTP status.

    with LocalTwilioAPI() as api:
        sender = TwilioSender(api.account_sid, api.auth_token, from_number="+15005550006",
                              api_base_url=api.base_url)
        api.reject("+15551230000")          # this customer texted STOP (21610)
        api.fail_next(2, status=500)        # the next two sends fail, then it recovers
        api.fail_next(status=429, retry_after=7)
        api.latency = 0.5                   # every answer takes half a second
        api.wait_for(1, timeout=5)          # -> the accepted messages, once there is one

Each connection is served on its own thread, so several processes can point at it
at once. Connections stay open between requests (HTTP/1.1 keep-alive), as
Twilio's do and as twilio-python's pooled session expects; `keep_alive=False`
closes each one after its answer instead. Once the API is closed nobody is
still being served: a connection waiting for its next request is cut, one
whose answer is being written is closed after it, and a request read after
the close is answered by a closed connection, not taken.
"""

import base64
import hmac
import re
import secrets
import socket
import threading
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import parse_qs

from .server import JSONHandler, LocalServer

API_VERSION = "2010-04-01"
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
MESSAGE_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>SM[0-9a-f]{32})\.json$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_BODY = 1600  # characters; Twilio refuses longer bodies with 21617

# Twilio's own wording for the errors a test is most likely to script.
MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21211: "Invalid 'To' Phone Number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
    21602: "Message body is required.",
    21604: "A 'To' phone number is required.",
    21603: "A 'From' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}

# GSM 03.38: a body entirely in these goes at 160 characters a segment, otherwise as UCS-2 at 70.
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")  # two septets each


def twilio_error(code: int, status: int, message: str | None = None) -> dict:
    """The JSON body Twilio answers an error with."""
    return {
        "code": code,
        "message": message or MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def encoding(body: str) -> str:
    """How Twilio would send `body`: "GSM-7" when every character is in the GSM alphabet, else "UCS-2"."""
    return "GSM-7" if all(c in GSM7 or c in GSM7_EXTENSION for c in body) else "UCS-2"


def segments(body: str) -> int:
    """How many SMS segments Twilio would bill `body` as."""
    if encoding(body) == "GSM-7":
        units, single, part = sum(2 if c in GSM7_EXTENSION else 1 for c in body), 160, 153
    else:
        units, single, part = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else -(-units // part)


class _Handler(JSONHandler):
    api: "LocalTwilioAPI"
    server_version = "LocalTwilioAPI/1.0"
    protocol_version = "HTTP/1.1"  # keep-alive, unless the API closes connections (`keep_alive=False`)
    disable_nagle_algorithm = True  # on a kept connection Nagle holds the body back until the headers' ACK: 40 ms

    def setup(self):
        super().setup()
        self.api._connection_opened(self)

    def finish(self):
        self.api._connection_ended(self)
        super().finish()

    def parse_request(self):
        """A request line was read: from here until its answer is written, closing the API does not cut it."""
        if not self.api._request_started(self):
            self.close_connection = True
            return False  # the API is closing: no answer, nothing taken
        return super().parse_request()

    def handle_one_request(self):
        try:
            super().handle_one_request()
        finally:
            self.api._request_ended(self)

    def do_GET(self):
        self._answer("GET", {})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        form = {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        self._answer("POST", form)

    def _answer(self, method: str, form: dict[str, str]):
        path = self.path.split("?", 1)[0]
        status, body, headers = self.api._handle(method, path, self.headers, form)
        with self.api._lock:
            self.api._requests.append(
                {"method": method, "path": path, "to": form.get("To"), "status": status, "at": time.time()}
            )
        if not self.api.keep_alive:
            headers = {**headers, "Connection": "close"}
        self.send_json(status, body, headers)


class LocalTwilioAPI(LocalServer):
    """Twilio's Messages API for one account, on an ephemeral port; records what it accepts, fails when told."""

    handler = _Handler
    thread_name = "local-twilio-api"

    def __init__(self, account_sid: str | None = None, auth_token: str | None = None, *, latency: float = 0.0,
                 keep_alive: bool = True):
        super().__init__()
        self.keep_alive = keep_alive  # False: each connection is closed after its answer (HTTP/1.0 style)
        self._connections: set[_Handler] = set()  # open connections
        self._answering: set[_Handler] = set()  # those with a request read and its answer not yet written
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.latency = latency  # seconds before every answer; a test of the sender's timeout sets it high
        self._lock = threading.Lock()
        self._messages: list[dict] = []
        self._requests: list[dict] = []
        self._failures: list[dict] = []  # scripted answers for the next sends, in order
        self._rejected: dict[str, dict] = {}  # To number -> the error every send to it gets
        self._changed = threading.Condition(self._lock)

    # --- scripting -------------------------------------------------------------------------------

    def fail_next(self, n: int = 1, *, status: int = 500, code: int | None = None, message: str | None = None,
                  retry_after: float | None = None) -> None:
        """Answer the next `n` authenticated sends with an error (default: a transient 500); nothing is recorded."""
        code = code or {429: 20429, 500: 20500}.get(status, status)
        with self._lock:
            self._failures.extend(
                {"status": status, "body": twilio_error(code, status, message), "retry_after": retry_after}
                for _ in range(n)
            )

    def reject(self, to: str, *, code: int = 21610, status: int = 400, message: str | None = None) -> None:
        """Refuse every send to `to` (default: the customer opted out, 21610) until `accept(to)`."""
        with self._lock:
            self._rejected[to] = {"status": status, "body": twilio_error(code, status, message), "retry_after": None}

    def accept(self, to: str) -> None:
        """Undo `reject(to)`: the customer texted START."""
        with self._lock:
            self._rejected.pop(to, None)

    # --- connections -----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop serving: see the module docstring for what becomes of the open connections."""
        super().close()  # sets _closing first: no request is taken from then on
        with self._lock:
            idle = [handler for handler in self._connections if handler not in self._answering]
        for handler in idle:
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)  # its wait for a next request ends
            except OSError:
                pass  # it ended meanwhile

    def _connection_opened(self, handler: _Handler) -> None:
        with self._lock:
            self._connections.add(handler)

    def _connection_ended(self, handler: _Handler) -> None:
        with self._lock:
            self._connections.discard(handler)

    def _request_started(self, handler: _Handler) -> bool:
        with self._lock:
            if self._closing.is_set():
                return False
            self._answering.add(handler)
            return True

    def _request_ended(self, handler: _Handler) -> None:
        with self._lock:
            self._answering.discard(handler)
            if self._closing.is_set():
                handler.close_connection = True

    # --- what happened ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[dict]:
        """The accepted messages, oldest first: sid, to, from, messaging_service_sid, body, status_callback, ..."""
        with self._lock:
            return [dict(m) for m in self._messages]

    @property
    def requests(self) -> list[dict]:
        """Every request, accepted or not: method, path, to, and the HTTP status it was answered with."""
        with self._lock:
            return [dict(r) for r in self._requests]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Block until at least `count` messages were accepted; return them. TimeoutError if they do not come."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"expected {count} messages within {timeout}s, got {len(self._messages)}")
            return [dict(m) for m in self._messages]

    # --- the API ---------------------------------------------------------------------------------

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            sid, _, token = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        # Both compared, so neither answer tells which of the two was wrong.
        return hmac.compare_digest(sid.encode(), self.account_sid.encode()) & hmac.compare_digest(
            token.encode(), self.auth_token.encode()
        )

    def _create(self, form: dict[str, str]) -> tuple[int, dict, dict]:
        """(status, body, headers) for one authenticated send."""
        to, from_, service = form.get("To"), form.get("From"), form.get("MessagingServiceSid")
        body = form.get("Body", "")
        with self._lock:
            scripted = self._failures.pop(0) if self._failures else self._rejected.get(to)
        if scripted:
            headers = {"Retry-After": f"{scripted['retry_after']:g}"} if scripted["retry_after"] is not None else {}
            return scripted["status"], scripted["body"], headers
        if not to:
            return 400, twilio_error(21604, 400), {}
        if not (from_ or service):
            return 400, twilio_error(21603, 400), {}
        if not body:
            return 400, twilio_error(21602, 400), {}
        if not E164.match(to):
            return 400, twilio_error(21211, 400, f"Invalid 'To' Phone Number: {to}"), {}
        if len(body) > MAX_BODY:
            return 400, twilio_error(21617, 400), {}
        now = datetime.now(timezone.utc)
        sid = "SM" + secrets.token_hex(16)
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
        resource = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": format_datetime(now),
            "date_sent": None,
            "date_updated": format_datetime(now),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # Through a Messaging Service without a From, Twilio picks the sender later: "accepted", not "queued".
            "status": "queued" if from_ else "accepted",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": to,
            "uri": uri,
        }
        record = {
            "sid": sid, "to": to, "from": from_, "messaging_service_sid": service, "body": body,
            "status_callback": form.get("StatusCallback"), "received_at": now, "resource": resource,
        }
        with self._changed:
            self._messages.append(record)
            self._changed.notify_all()
        return 201, resource, {}

    def _fetch(self, sid: str) -> tuple[int, dict, dict]:
        with self._lock:
            found = next((m["resource"] for m in self._messages if m["sid"] == sid), None)
        return (200, found, {}) if found else (404, twilio_error(20404, 404), {})

    def _handle(self, method: str, path: str, headers, form: dict[str, str]) -> tuple[int, dict, dict]:
        if self.latency and self._closing.wait(self.latency):
            return 503, twilio_error(20500, 503, "Shutting down"), {}
        match = MESSAGES_PATH.match(path) or MESSAGE_PATH.match(path)
        if not match:
            return 404, twilio_error(20404, 404), {}
        if not self._authorized(headers.get("Authorization")):
            return 401, twilio_error(20003, 401), {"WWW-Authenticate": 'Basic realm="Twilio API"'}
        if match["account"] != self.account_sid:
            return 404, twilio_error(20404, 404, f"The requested resource {path} was not found"), {}
        if method == "POST" and match.re is MESSAGES_PATH:
            return self._create(form)
        if method == "GET" and match.re is MESSAGE_PATH:
            return self._fetch(match["sid"])
        return 405, twilio_error(20004, 405, "Method not allowed"), {}
