"""A local stand-in for Stripe's API, Checkout's hosted page and Stripe's webhooks, over real HTTP on 127.0.0.1.

It answers what stripe-python 16 sends: form-encoded parameters in bracket notation
(`line_items[0][price_data][unit_amount]=128333`, `metadata[job]=J-7K2Q`), `Authorization: Bearer sk_test_...`,
`Idempotency-Key` and `Stripe-Account` headers; and it answers as Stripe does: JSON objects, lists
(`{"object": "list", "data", "has_more", "url"}`), errors as `{"error": {"type", "code", "message", "param"}}` with
the real HTTP status, and a `Request-Id` on every answer. Served: Checkout Sessions (create, retrieve, list,
expire), PaymentIntents and Charges (retrieve), Refunds, Events (retrieve; list by `delivery_success`, `type`,
`created`), Connect accounts and account links; a hosted checkout page at `/checkout/<session id>` (pay by card,
pay by bank transfer, cancel) and an onboarding page behind each account link.

    with LocalStripeAPI() as api:
        client = stripe.StripeClient(api.secret_key, base_addresses={"api": api.base_url, "connect": api.base_url},
                                     max_network_retries=0)
        secret = api.add_endpoint("http://127.0.0.1:8000/stripe/webhook")  # -> "whsec_...", for construct_event
        session = client.v1.checkout.sessions.create(params={...}, options={"idempotency_key": "pay-J-7K2Q-2"})
        httpx.post(session.url + "/pay", data={"method": "card"})   # the customer pays: 303 to success_url
        api.wait_for_deliveries(1)                     # checkout.session.completed reached the endpoint
        api.settle_bank(session_id, succeed=False)     # a bank transfer bounces: ..._async_payment_failed
        api.hold_deliveries(); ...; api.release(order=[second, first])   # held, then delivered out of order
        api.redeliver(event_id)                        # the same event again, as Stripe's retries send it
        api.fail_next(status=500)                      # Stripe is down when the customer taps Pay
        api.clock = lambda: time.time() + 25 * 3600    # a day later: open sessions have expired

Only the events Paystage listens for are made (checkout.session.*, charge.refunded, charge.dispute.created,
account.updated). Each is kept and POSTed, one at a time on a thread of its own in the order they happen (unless
held), to every endpoint that wants it, signed as Stripe signs (`Stripe-Signature: t=...,v1=...`, pretty-printed
JSON, so a receiver that verifies anything but the raw bytes fails). An endpoint answering non-2xx, redirecting or
unreachable leaves the event undelivered (`delivery_success=false` lists it) until `retry_undelivered()`. A
connected account's events carry `account` and go to endpoints added with `connect=True`, as Connect endpoints.

Idempotency as Stripe documents it: a key belongs to one account; a 2xx answer is replayed for the same request
(`Idempotent-Replayed: true`); the same key on other parameters or another path is a 400 idempotency_error; a key
whose first request is still running is a 409. Validation errors and scripted failures are not saved. Parameters
this local Stripe does not know are refused as unknown, as Stripe refuses a misspelt one. Sessions expire by `clock`.
"""

import copy
import fnmatch
import hashlib
import hmac
import html
import json
import operator
import re
import secrets
import string
import threading
import time
import urllib.error
import urllib.request
from base64 import b64decode
from dataclasses import dataclass
from urllib.parse import parse_qsl

from .server import JSONHandler, LocalServer

API_VERSION = "2026-10-28.endive"  # the version stripe-python 16.1 pins
DAY = 24 * 3600
MINIMUM_CHARGE = {"usd": 50, "cad": 50, "aud": 50, "eur": 50, "gbp": 30}  # Stripe's minimum per currency
MAXIMUM_CHARGE = 99_999_999  # $999,999.99
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
METHODS = ("card", "us_bank_account")
SESSION_PARAMS = frozenset({
    "mode", "line_items", "payment_method_types", "client_reference_id", "metadata", "success_url", "cancel_url",
    "expires_at", "payment_intent_data", "customer_email", "locale", "submit_type", "payment_method_options",
    "billing_address_collection", "phone_number_collection", "custom_text", "expand"})  # the last ones: ignored
PAYMENT_INTENT_DATA = frozenset({"metadata", "description", "receipt_email", "statement_descriptor",
                                 "statement_descriptor_suffix", "application_fee_amount", "transfer_data"})
LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "created", "expand"})
NO_KEY = ("You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer "
          "auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for "
          "details, or we can help at https://support.stripe.com/.")
ALPHANUMERIC = string.ascii_letters + string.digits


class StripeError(Exception):
    """An error answer: HTTP status and Stripe's error body."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.status = status
        error = {"type": type, "message": message}
        if code:
            error.update(code=code, doc_url=f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}")
        if param:
            error["param"] = param
        self.body = {"error": error}


def sign(payload: str | bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header for `payload`: an HMAC-SHA256 of "<timestamp>.<payload>" keyed by `secret`."""
    payload = payload.decode() if isinstance(payload, bytes) else payload
    timestamp = int(time.time() if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def parse_params(raw: str) -> dict:
    """Stripe's bracket notation as dicts and lists: `a[0][b]=1&c[]=x` -> {"a": [{"b": "1"}], "c": ["x"]}."""
    root: dict = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        name, *rest = key.split("[")
        parts, node = [name] + [part.rstrip("]") for part in rest], root
        for i, part in enumerate(parts):
            part = part or str(len(node))  # `c[]` appends
            if i == len(parts) - 1:
                node[part] = value
            elif not isinstance(node := node.setdefault(part, {}), dict):
                raise StripeError(400, f"Invalid value for {key}: it is also given as a single value.", param=key)
    return _listify(root, "")


def _listify(value, key: str):
    if not isinstance(value, dict):
        return value
    value = {k: _listify(v, k) for k, v in value.items()}
    if key != "metadata" and value and all(k.isdigit() for k in value):
        return [value[k] for k in sorted(value, key=int)]
    return value


def _new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


def _redact(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 0) + key[-4:]


def _missing(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def _no_such(kind: str, id: str, param: str = "id", status: int = 404) -> StripeError:
    return StripeError(status, f"No such {kind}: '{id}'", code="resource_missing", param=param)


def _known(params, allowed: frozenset | set, at: str = "") -> dict:
    if not isinstance(params, dict):
        raise StripeError(400, f"Invalid object: {at} must be a hash.", param=at or None)
    for name in params.keys() - allowed:
        name = f"{at}[{name}]" if at else name
        raise StripeError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)
    return params


def _int(params: dict, name: str, at: str = "", default: int | None = None) -> int:
    param = f"{at}[{name}]" if at else name
    if params.get(name) in (None, ""):
        if default is None:
            raise _missing(param)
        return default
    try:
        return int(params[name])
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid integer: {params[name]}", code="parameter_invalid_integer",
                          param=param) from None


def _metadata(params: dict, at: str = "") -> dict:
    metadata, param = params.get("metadata") or {}, f"{at}[metadata]" if at else "metadata"
    if not isinstance(metadata, dict) or len(metadata) > 50:
        raise StripeError(400, "Invalid metadata: a hash of up to 50 keys.", param=param)
    for key, value in metadata.items():
        if len(key) > 40 or len(str(value)) > 500:
            raise StripeError(400, f"Metadata keys can have up to 40 characters and values up to 500 (key {key!r}).",
                              param=f"{param}[{key}]")
    return dict(metadata)


def money(amount: int, currency: str) -> str:
    """An amount in minor units as the checkout page shows it: $1,283.33, 12.50 EUR, 1,000 JPY."""
    if currency in ZERO_DECIMAL:
        return f"{amount:,} {currency.upper()}"
    text = f"{amount // 100:,}.{amount % 100:02d}"
    return f"${text}" if currency == "usd" else f"{text} {currency.upper()}"


def _page(title: str, *parts: str) -> str:
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'  # no /favicon.ico for a browser to fetch and log a 404 for
            f"<title>{html.escape(title)}</title></head><body><main><h1>{html.escape(title)}</h1>"
            f"{''.join(parts)}</main></body></html>")


def _button(target: str, label: str, **fields: str) -> str:
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items())
    return f'<form method="post" action="{html.escape(target)}">{hidden}<button type="submit">{html.escape(label)}' \
           "</button></form>"


@dataclass
class _Call:
    params: dict
    account: str | None
    request: dict  # the event's `request`: {"id", "idempotency_key"}
    id: str | None = None  # the object id in the path
    kind: str | None = None  # the object type that path serves


ROUTES = [(method, re.compile(pattern), handler, kind) for method, pattern, handler, kind in [
    ("POST", r"/v1/checkout/sessions", "_create_session", None),
    ("GET", r"/v1/checkout/sessions", "_list_sessions", None),
    ("GET", r"/v1/checkout/sessions/(?P<id>[^/]+)", "_retrieve", "checkout.session"),
    ("POST", r"/v1/checkout/sessions/(?P<id>[^/]+)/expire", "_expire_session", "checkout.session"),
    ("GET", r"/v1/payment_intents/(?P<id>[^/]+)", "_retrieve", "payment_intent"),
    ("GET", r"/v1/charges/(?P<id>[^/]+)", "_retrieve", "charge"),
    ("POST", r"/v1/refunds", "_create_refund", None),
    ("GET", r"/v1/refunds/(?P<id>[^/]+)", "_retrieve", "refund"),
    ("GET", r"/v1/events", "_list_events", None),
    ("GET", r"/v1/events/(?P<id>[^/]+)", "_retrieve_event", "event"),
    ("POST", r"/v1/accounts", "_create_account", None),
    ("GET", r"/v1/accounts/(?P<id>[^/]+)", "_retrieve", "account"),
    ("POST", r"/v1/account_links", "_create_account_link", None),
]]
PAGES = re.compile(r"/(?P<page>checkout|connect/onboarding)/(?P<id>[^/]+)(?P<action>/pay|/cancel)?")


class _Handler(JSONHandler):
    api: "LocalStripeAPI"
    server_version = "LocalStripeAPI/1.0"

    def do_GET(self):
        self._answer("GET", b"")

    def do_POST(self):
        self._answer("POST", self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _answer(self, method: str, raw: bytes):
        status, body, headers = self.api._dispatch(method, self.path, self.headers, raw.decode(errors="replace"))
        if not isinstance(body, str):
            return self.send_json(status, body, headers)
        payload = body.encode()
        self.send_response(status)
        for name, value in {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(payload)),
                            **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # Stripe counts a redirect as a failed delivery


class LocalStripeAPI(LocalServer):
    """Stripe for one platform account, on an ephemeral port; keeps every object and event, delivers webhooks."""

    handler = _Handler
    thread_name = "local-stripe-api"

    def __init__(self, secret_key: str | None = None, *, latency: float = 0.0, delivery_timeout: float = 5.0):
        super().__init__()
        self.secret_key = secret_key or _new_id("sk_test_", 99)
        self.latency = latency  # seconds before every /v1 answer (not the pages)
        self.delivery_timeout = delivery_timeout
        self.clock = time.time  # what "now" is for created, expires_at and expiry; a test may move it
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._objects: dict[str, dict] = {}  # id -> the object as it is now
        self._owner: dict[str, str | None] = {}  # id -> the connected account it belongs to (None: the platform)
        self._lines: dict[str, tuple[list[dict], dict]] = {}  # session id -> (line items, payment_intent_data)
        self._links: dict[str, dict] = {}  # onboarding page token -> account, urls, expires_at, used
        self._idempotent: dict[tuple, dict] = {}  # (account, key) -> fingerprint and the saved answer
        self._events: dict[str, dict] = {}  # id -> {"event", "pending": endpoint ids}, oldest first
        self._endpoints: list[dict] = []
        self._requests: list[dict] = []
        self._deliveries: list[dict] = []
        self._failures: list[dict] = []
        self._queue: list[tuple[int, str, dict]] = []  # (job number, event id, endpoint) for the delivery thread
        self._queued = self._delivered = 0
        self._holding, self._held = False, []
        self._worker: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self):
        super().start()
        self._worker = threading.Thread(target=self._deliver_forever, name="local-stripe-webhooks", daemon=True)
        self._worker.start()
        return self

    def close(self) -> None:
        super().close()
        if self._worker:
            self._worker.join(timeout=self.delivery_timeout + 1)

    def _wake_waiting(self) -> None:
        with self._changed:
            super()._wake_waiting()
            self._changed.notify_all()

    # --- scripting -------------------------------------------------------------------------------

    def add_endpoint(self, url: str, secret: str | None = None, *, connect: bool = False,
                     enabled_events: list[str] | None = None) -> str:
        """Deliver events from now on to `url` (a Connect endpoint: connected accounts' events); its signing secret."""
        secret = secret or _new_id("whsec_", 32)
        with self._lock:
            self._endpoints.append({"id": _new_id("we_"), "url": url, "secret": secret, "connect": connect,
                                    "enabled_events": list(enabled_events or ["*"])})
        return secret

    def hold_deliveries(self) -> None:
        """Keep new events (still pending, so undelivered) until `release`."""
        with self._lock:
            self._holding = True

    def release(self, order: list[str] | None = None, timeout: float = 10.0) -> list[dict]:
        """Deliver the held events, those in `order` first in that order, and deliver as they come again."""
        order = list(order or ())
        with self._lock:
            if set(order) - set(self._held):
                raise ValueError(f"not held: {sorted(set(order) - set(self._held))}")
            held, self._holding, self._held = self._held, False, []
            ordered = order + [e for e in held if e not in order]
            return self._deliver_now([(e, self._recipients(e, all_pending=True)) for e in ordered], timeout)

    def redeliver(self, event_id: str, timeout: float = 10.0) -> list[dict]:
        """Send an event again to every endpoint that wants it: the duplicate a receiver must ignore."""
        with self._lock:
            return self._deliver_now([(event_id, self._recipients(event_id))], timeout)

    def retry_undelivered(self, timeout: float = 10.0) -> list[dict]:
        """Stripe's retry: every event not held is sent again to the endpoints that have not taken it yet."""
        with self._lock:
            return self._deliver_now([(e, self._recipients(e, all_pending=True)) for e, record in self._events.items()
                                      if record["pending"] and e not in self._held], timeout)

    def settle_bank(self, session_id: str, succeed: bool = True) -> dict:
        """The bank transfer a customer started settles, or fails: checkout.session.async_payment_*; the event."""
        with self._lock:
            session = self._objects[session_id]
            intent = self._objects.get(session["payment_intent"] or "")
            if not intent or intent["status"] != "processing":
                raise ValueError(f"{session_id} has no bank transfer in processing")
            charge = self._objects[intent["latest_charge"]]
            intent["status"] = "succeeded" if succeed else "requires_payment_method"
            intent["amount_received"] = intent["amount"] if succeed else 0
            charge.update(status="succeeded" if succeed else "failed", paid=succeed)
            session["payment_status"] = "paid" if succeed else "unpaid"
            kind = "succeeded" if succeed else "failed"
            return self._emit(f"checkout.session.async_payment_{kind}", session, self._owner[session_id])

    def dispute(self, payment_intent: str, *, reason: str = "fraudulent", amount: int | None = None) -> dict:
        """The customer's bank disputes a payment: charge.dispute.created; the Dispute."""
        with self._lock:
            intent = self._objects[payment_intent]
            charge, now = self._objects[intent["latest_charge"]], int(self.clock())
            dispute = {"id": _new_id("du_"), "object": "dispute", "amount": amount or charge["amount"],
                       "charge": charge["id"], "created": now, "currency": charge["currency"],
                       "evidence_details": {"due_by": now + 7 * DAY, "has_evidence": False, "past_due": False,
                                            "submission_count": 0},
                       "is_charge_refundable": False, "livemode": False, "metadata": {},
                       "payment_intent": payment_intent, "reason": reason, "status": "needs_response"}
            charge["disputed"] = True
            self._store(dispute, self._owner[payment_intent])
            self._emit("charge.dispute.created", dispute, self._owner[payment_intent])
            return copy.deepcopy(dispute)

    def complete_onboarding(self, account_id: str) -> dict:
        """The contractor finished Stripe's onboarding: charges enabled, account.updated; the Account."""
        with self._lock:
            account = self._objects[account_id]
            if not account["charges_enabled"]:
                previous = {k: False for k in ("charges_enabled", "details_submitted", "payouts_enabled")}
                account.update({k: True for k in previous}, capabilities={"card_payments": "active",
                               "transfers": "active"}, requirements={"currently_due": [], "disabled_reason": None})
                self._emit("account.updated", account, account_id, previous=previous)
            return copy.deepcopy(account)

    def expire(self, session_id: str) -> dict:
        """Stripe expires an open session (as at its expires_at): checkout.session.expired; the session."""
        with self._lock:
            self._expire(session_id)
            return self.object(session_id)

    def fail_next(self, n: int = 1, *, status: int = 500, path: str | None = None, message: str | None = None) -> None:
        """Answer the next `n` authenticated calls (to paths starting with `path`) with an error; nothing is done."""
        with self._lock:
            self._failures.extend({"status": status, "path": path or "/v1/", "message": message} for _ in range(n))

    sign = staticmethod(sign)

    # --- what happened ---------------------------------------------------------------------------

    def object(self, id: str) -> dict | None:
        """Any object it made (session, payment intent, charge, refund, dispute, account) as it is now."""
        with self._lock:
            return copy.deepcopy(self._objects.get(id))

    @property
    def events(self) -> list[dict]:
        """Every event, every account's, oldest first."""
        with self._lock:
            return [self._event_view(e) for e in self._events]

    @property
    def held(self) -> list[str]:
        with self._lock:
            return list(self._held)

    @property
    def deliveries(self) -> list[dict]:
        """Every delivery attempt, oldest first: job, event_id, type, url, status (None: unreachable), error, at."""
        with self._lock:
            return [dict(d) for d in self._deliveries]

    @property
    def requests(self) -> list[dict]:
        """Every request: method, path, params, account, idempotency_key, status, replayed, at."""
        with self._lock:
            return copy.deepcopy(self._requests)

    def wait_for_deliveries(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Block until at least `count` delivery attempts were made; return them. TimeoutError if they do not come."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._deliveries) >= count, timeout):
                raise TimeoutError(f"expected {count} deliveries within {timeout}s, got {len(self._deliveries)}")
            return [dict(d) for d in self._deliveries]

    # --- events and deliveries (with the lock held) -----------------------------------------------

    def _emit(self, type: str, obj: dict, account: str | None, *, request: dict | None = None,
              previous: dict | None = None) -> dict:
        event = {"id": _new_id("evt_"), "object": "event", "api_version": API_VERSION, "created": int(self.clock()),
                 "data": {"object": copy.deepcopy(obj)}, "livemode": False, "pending_webhooks": 0,
                 "request": request or {"id": None, "idempotency_key": None}, "type": type}
        if previous:
            event["data"]["previous_attributes"] = previous
        if account:
            event["account"] = account
        self._events[event["id"]] = {"event": event, "pending": set()}
        recipients = self._recipients(event["id"])
        self._events[event["id"]]["pending"] = {e["id"] for e in recipients}
        if self._holding:
            self._held.append(event["id"])
        else:
            self._enqueue(event["id"], recipients)
        return self._event_view(event["id"])

    def _recipients(self, event_id: str, all_pending: bool = False) -> list[dict]:
        record = self._events[event_id]
        if all_pending:
            return [e for e in self._endpoints if e["id"] in record["pending"]]
        event = record["event"]
        return [e for e in self._endpoints if e["connect"] == ("account" in event)
                and any(fnmatch.fnmatchcase(event["type"], wanted) for wanted in e["enabled_events"])]

    def _event_view(self, event_id: str) -> dict:
        record = self._events[event_id]
        return {**copy.deepcopy(record["event"]), "pending_webhooks": len(record["pending"])}

    def _enqueue(self, event_id: str, endpoints: list[dict]) -> None:
        for endpoint in endpoints:
            self._queued += 1
            self._queue.append((self._queued, event_id, endpoint))
        self._changed.notify_all()

    def _deliver_now(self, jobs: list[tuple[str, list[dict]]], timeout: float) -> list[dict]:
        first = self._queued + 1
        for event_id, endpoints in jobs:
            self._enqueue(event_id, endpoints)
        last = self._queued  # one thread delivers in order: once it has done `last`, it has done these
        if not self._changed.wait_for(lambda: self._delivered >= last or self._closing.is_set(), timeout):
            raise TimeoutError(f"deliveries not done within {timeout}s")
        return [dict(d) for d in self._deliveries if d["job"] >= first]

    def _deliver_forever(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._queue or self._closing.is_set())
                if self._closing.is_set():
                    return
                job, event_id, endpoint = self._queue.pop(0)
                body = json.dumps(self._event_view(event_id), indent=2)
            status, error = self._post(endpoint, body)
            with self._changed:
                if status is not None and 200 <= status < 300:
                    self._events[event_id]["pending"].discard(endpoint["id"])
                self._deliveries.append({"job": job, "event_id": event_id, "url": endpoint["url"], "status": status,
                                         "type": self._events[event_id]["event"]["type"], "error": error,
                                         "at": time.time()})
                self._delivered += 1
                self._changed.notify_all()

    def _post(self, endpoint: dict, body: str) -> tuple[int | None, str]:
        request = urllib.request.Request(endpoint["url"], data=body.encode(), method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": sign(body, endpoint["secret"])})
        try:
            with self._opener.open(request, timeout=self.delivery_timeout) as response:
                return response.status, ""
        except urllib.error.HTTPError as error:
            error.close()
            return error.code, ""
        except (OSError, ValueError) as error:  # refused, timed out, not a URL
            return None, str(error)

    # --- objects (with the lock held) ------------------------------------------------------------

    def _store(self, obj: dict, account: str | None) -> dict:
        self._objects[obj["id"]], self._owner[obj["id"]] = obj, account
        return obj

    def _owned(self, id: str, kind: str, account: str | None, param: str = "id", status: int = 404) -> dict:
        obj = self._objects.get(id)
        if obj is None or obj["object"] != kind or self._owner[id] != account:
            raise _no_such(kind, id, param, status)
        return obj

    def _expire(self, session_id: str, request: dict | None = None) -> bool:
        session = self._objects[session_id]
        if session["status"] != "open":
            return False
        session.update(status="expired", url=None)
        self._emit("checkout.session.expired", session, self._owner[session_id], request=request)
        return True

    def _expire_due(self) -> None:
        with self._lock:
            now = self.clock()
            for obj in list(self._objects.values()):
                if obj["object"] == "checkout.session" and obj["status"] == "open" and obj["expires_at"] <= now:
                    self._expire(obj["id"])

    def _pay(self, session: dict, method: str) -> None:
        """The customer paid at the hosted page: a card payment succeeds, a bank transfer starts processing."""
        card, now, account = method == "card", int(self.clock()), self._owner[session["id"]]
        metadata = _metadata(self._lines[session["id"]][1])
        intent = self._store({
            "id": _new_id("pi_"), "object": "payment_intent", "amount": session["amount_total"],
            "amount_received": session["amount_total"] if card else 0, "created": now,
            "currency": session["currency"], "latest_charge": None, "livemode": False, "metadata": metadata,
            "payment_method_types": [method], "status": "succeeded" if card else "processing"}, account)
        charge = self._store({
            "id": _new_id("ch_"), "object": "charge", "amount": intent["amount"], "amount_captured": intent["amount"],
            "amount_refunded": 0, "captured": True, "created": now, "currency": intent["currency"], "disputed": False,
            "livemode": False, "metadata": dict(metadata), "paid": card, "payment_intent": intent["id"],
            "payment_method_details": {"type": method}, "refunded": False,
            "status": "succeeded" if card else "pending"}, account)
        intent["latest_charge"] = charge["id"]
        session.update(status="complete", payment_status="paid" if card else "unpaid", payment_intent=intent["id"],
                       url=None)
        self._emit("checkout.session.completed", session, account)

    # --- the HTTP side ---------------------------------------------------------------------------

    def _dispatch(self, method: str, target: str, headers, raw: str) -> tuple[int, dict | str, dict]:
        path, _, query = target.partition("?")
        self._expire_due()
        if path.startswith("/v1/"):
            request_id, params = _new_id("req_", 14), None
            try:
                params = parse_params(raw if method == "POST" else query)
                status, body, extra = self._api(method, path, headers, params, raw, request_id)
            except StripeError as error:
                status, body, extra = error.status, error.body, {}
            with self._lock:
                self._requests.append({"method": method, "path": path, "params": params, "status": status,
                                       "account": headers.get("Stripe-Account"), "at": time.time(),
                                       "idempotency_key": headers.get("Idempotency-Key"),
                                       "replayed": "Idempotent-Replayed" in extra})
            return status, body, {"Request-Id": request_id, "Stripe-Version": API_VERSION, **extra}
        match = PAGES.fullmatch(path)
        if not match:
            return 404, _page("Page not found"), {}
        form = {k: v for k, v in parse_qsl(raw)}
        with self._lock:
            if match["page"] == "checkout":
                return self._checkout_page(method, match["id"], match["action"], form.get("method"))
            return self._onboarding_page(method, match["id"], form.get("action"))

    def _api(self, method: str, path: str, headers, params: dict, raw: str, request_id: str):
        key = self._authorize(headers.get("Authorization"))
        account = headers.get("Stripe-Account") or None
        with self._lock:
            if account and self._owned_account(account) is None:
                raise StripeError(403, f"The provided key '{_redact(key)}' does not have access to account "
                                       f"'{account}' (or that account does not exist). Application access may have "
                                       "been revoked.", code="account_invalid")
        idempotency_key = headers.get("Idempotency-Key") if method == "POST" else None
        slot, fingerprint, saved = (account, idempotency_key), (path, sorted(parse_qsl(raw))), False
        if idempotency_key:
            with self._lock:
                first = self._idempotent.get(slot)
                if first and first["fingerprint"] != fingerprint:
                    raise StripeError(400, "Keys for idempotent requests can only be used with the same parameters "
                                           f"they were first used with. Try using a key other than '{idempotency_key}' "
                                           "if you meant to execute a different request.", type="idempotency_error")
                if first and first["answer"] is None:
                    raise StripeError(409, "There is currently another in-progress request using this Idempotent Key "
                                           "(that probably means you submitted twice, and the other request is still "
                                           f"going through): {idempotency_key}. Please try again later.",
                                      code="idempotency_key_in_use")
                if first:
                    return *first["answer"], {"Idempotent-Replayed": "true", "Idempotency-Key": idempotency_key}
                self._idempotent[slot] = {"fingerprint": fingerprint, "answer": None}
        try:
            if self.latency and self._closing.wait(self.latency):
                raise StripeError(503, "Shutting down", type="api_error")
            with self._lock:
                failure = next((f for f in self._failures if path.startswith(f["path"])), None)
                if failure:
                    self._failures.remove(failure)
                    status = failure["status"]
                    raise StripeError(status, failure["message"] or (
                        "Request rate limit exceeded." if status == 429 else "An unknown error occurred"),
                        type="api_error" if status >= 500 else "invalid_request_error",
                        code="rate_limit" if status == 429 else None)
                call = _Call(params, account, {"id": request_id, "idempotency_key": idempotency_key})
                for route_method, pattern, handler, kind in ROUTES:
                    if route_method == method and (match := pattern.fullmatch(path)):
                        call.id, call.kind = match.groupdict().get("id"), kind
                        body = getattr(self, handler)(call)
                        if idempotency_key:
                            self._idempotent[slot]["answer"], saved = (200, copy.deepcopy(body)), True
                        return 200, body, {}
            raise StripeError(404, f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
                                   "or we can help at https://support.stripe.com/.")
        finally:
            if idempotency_key and not saved:
                with self._lock:
                    self._idempotent.pop(slot, None)

    def _authorize(self, header: str | None) -> str:
        scheme, _, key = (header or "").partition(" ")
        if scheme.lower() == "basic":  # curl -u sk_test_...:
            try:
                key = b64decode(key, validate=True).decode().partition(":")[0]
            except ValueError:
                raise StripeError(401, NO_KEY) from None
        elif scheme.lower() != "bearer":
            raise StripeError(401, NO_KEY)
        if not hmac.compare_digest(key.encode(), self.secret_key.encode()):
            raise StripeError(401, f"Invalid API Key provided: {_redact(key)}")
        return key

    def _owned_account(self, account: str) -> dict | None:
        obj = self._objects.get(account)
        return obj if obj and obj["object"] == "account" else None

    # --- /v1 (with the lock held) ----------------------------------------------------------------

    def _retrieve(self, call: _Call) -> dict:
        _known(call.params, {"expand"})
        return copy.deepcopy(self._owned(call.id, call.kind, call.account))

    def _retrieve_event(self, call: _Call) -> dict:
        record = self._events.get(call.id)
        if not record or record["event"].get("account") != call.account:
            raise _no_such("event", call.id)
        return self._event_view(call.id)

    def _create_session(self, call: _Call) -> dict:
        p, now = _known(call.params, SESSION_PARAMS), int(self.clock())
        if call.account and not self._objects[call.account]["charges_enabled"]:
            raise StripeError(400, f"The account {call.account} cannot take payments yet: its onboarding is not "
                                   "complete (charges_enabled is false).")
        if "mode" not in p:
            raise _missing("mode")
        if p["mode"] != "payment":
            raise StripeError(400, "This local Stripe takes mode=payment only.", param="mode")
        items = p.get("line_items")
        if not isinstance(items, list) or not items:
            raise _missing("line_items")
        lines, currencies = [], set()
        for i, item in enumerate(items):
            at = f"line_items[{i}]"
            if isinstance(item, dict) and "price" in item:
                raise StripeError(400, "This local Stripe keeps no Prices: send price_data.", param=f"{at}[price]")
            if "price_data" not in _known(item, {"price_data", "quantity"}, at):
                raise _missing(f"{at}[price_data]")
            data = _known(item["price_data"], {"currency", "unit_amount", "product_data", "tax_behavior"},
                          f"{at}[price_data]")
            product = _known(data.get("product_data") or {}, {"name", "description", "metadata"},
                             f"{at}[price_data][product_data]")
            if not data.get("currency"):
                raise _missing(f"{at}[price_data][currency]")
            if not product.get("name"):
                raise _missing(f"{at}[price_data][product_data][name]")
            unit_amount, quantity = _int(data, "unit_amount", f"{at}[price_data]"), _int(item, "quantity", at)
            if unit_amount < 0 or quantity < 1:
                raise StripeError(400, "Invalid amount or quantity: a unit_amount of 0 or more, a quantity of 1 or "
                                       "more.", param=at)
            currencies.add(data["currency"].lower())
            lines.append({"name": product["name"], "unit_amount": unit_amount, "quantity": quantity})
        if len(currencies) > 1:
            raise StripeError(400, "All line items must be in the same currency.", param="line_items")
        currency, total = currencies.pop(), sum(line["unit_amount"] * line["quantity"] for line in lines)
        if total < MINIMUM_CHARGE.get(currency, 0):
            raise StripeError(400, "The Checkout Session's total amount due must add up to at least "
                                   f"{money(MINIMUM_CHARGE[currency], currency)} {currency}", code="amount_too_small")
        if total > MAXIMUM_CHARGE:
            raise StripeError(400, f"Amount must be no more than {money(MAXIMUM_CHARGE, currency)}",
                              code="amount_too_large")
        methods = p.get("payment_method_types") or ["card"]
        methods = [methods] if isinstance(methods, str) else methods
        for i, method in enumerate(methods):
            if method not in METHODS:
                raise StripeError(400, f"Invalid payment_method_types[{i}]: must be one of {', '.join(METHODS)}",
                                  param=f"payment_method_types[{i}]")
        if "us_bank_account" in methods and currency != "usd":
            raise StripeError(400, f"The currency provided ({currency}) is invalid for one or more payment method "
                                   "types on this Checkout Session. The payment method type us_bank_account only "
                                   "supports the following currencies: usd.", param="payment_method_types")
        expires_at = _int(p, "expires_at", default=now + DAY)
        if not now + 1800 <= expires_at <= now + DAY:
            raise StripeError(400, "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                                   "Checkout Session creation.", param="expires_at")
        if len(p.get("client_reference_id") or "") > 200:
            raise StripeError(400, "client_reference_id can have up to 200 characters.", param="client_reference_id")
        intent_data = _known(p.get("payment_intent_data") or {}, PAYMENT_INTENT_DATA, "payment_intent_data")
        metadata, _ = _metadata(p), _metadata(intent_data, "payment_intent_data")
        session_id = _new_id("cs_test_", 58)  # as long as Stripe's: 66 characters
        self._lines[session_id] = (lines, intent_data)
        return copy.deepcopy(self._store({
            "id": session_id, "object": "checkout.session", "amount_subtotal": total, "amount_total": total,
            "cancel_url": p.get("cancel_url"), "client_reference_id": p.get("client_reference_id"), "created": now,
            "currency": currency, "customer": None, "customer_email": p.get("customer_email"),
            "expires_at": expires_at, "livemode": False, "metadata": metadata, "mode": "payment",
            "payment_intent": None, "payment_method_types": list(methods), "payment_status": "unpaid",
            "status": "open", "success_url": p.get("success_url"), "url": f"{self.base_url}/checkout/{session_id}",
        }, call.account))

    def _expire_session(self, call: _Call) -> dict:
        session = self._owned(call.id, "checkout.session", call.account, "session")
        if not self._expire(session["id"], call.request):
            raise StripeError(400, f"Only Checkout Sessions with a status in [\"open\"] can be expired. This session "
                                   f"has a status of \"{session['status']}\".")
        return copy.deepcopy(session)

    def _list(self, call: _Call, items: list[dict], url: str, allowed: frozenset | set) -> dict:
        """One page of `items` (oldest first as stored), newest first as Stripe lists."""
        p = _known(call.params, LIST_PARAMS | allowed)
        limit = _int(p, "limit", default=10)
        if not 1 <= limit <= 100:
            raise StripeError(400, "Invalid limit: must be between 1 and 100", param="limit")
        created = p.get("created")
        bounds = created if isinstance(created, dict) else {"eq": created} if created else {}
        ops = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le, "eq": operator.eq}
        for op in bounds:
            if op not in ops:
                raise StripeError(400, f"Received unknown parameter: created[{op}]", code="parameter_unknown")
            bound = _int(bounds, op, "created")
            items = [i for i in items if ops[op](i["created"], bound)]
        items, ids = items[::-1], [i["id"] for i in reversed(items)]
        for cursor in ("starting_after", "ending_before"):
            if p.get(cursor) and p[cursor] not in ids:
                raise _no_such(items[0]["object"] if items else "object", p[cursor], cursor, 400)
        if p.get("starting_after"):
            rest = items[ids.index(p["starting_after"]) + 1:]
        elif p.get("ending_before"):
            rest = items[:ids.index(p["ending_before"])][-limit - 1:]
            return {"object": "list", "data": rest[-limit:], "has_more": len(rest) > limit, "url": url}
        else:
            rest = items
        return {"object": "list", "data": rest[:limit], "has_more": len(rest) > limit, "url": url}

    def _list_sessions(self, call: _Call) -> dict:
        p = call.params
        sessions = [copy.deepcopy(o) for id, o in self._objects.items() if o["object"] == "checkout.session"
                    and self._owner[id] == call.account and p.get("status") in (None, o["status"])
                    and p.get("payment_intent") in (None, o["payment_intent"])]
        return self._list(call, sessions, "/v1/checkout/sessions", {"status", "payment_intent"})

    def _list_events(self, call: _Call) -> dict:
        p = call.params
        types = [p["type"]] if p.get("type") else p.get("types") or ["*"]
        success = {"true": True, "false": False}.get(str(p.get("delivery_success")).lower())
        events = [self._event_view(id) for id, record in self._events.items()
                  if record["event"].get("account") == call.account
                  and any(fnmatch.fnmatchcase(record["event"]["type"], t) for t in types)
                  and success in (None, not record["pending"])]
        return self._list(call, events, "/v1/events", {"type", "types", "delivery_success"})

    def _create_refund(self, call: _Call) -> dict:
        p = _known(call.params, {"payment_intent", "charge", "amount", "reason", "metadata"})
        if p.get("charge"):
            charge = self._owned(p["charge"], "charge", call.account, "charge", 400)
        elif p.get("payment_intent"):
            intent = self._owned(p["payment_intent"], "payment_intent", call.account, "payment_intent", 400)
            charge = self._objects[intent["latest_charge"]]
        else:
            raise StripeError(400, "One of the following params should be provided for this request: payment_intent "
                                   "or charge.")
        if charge["status"] != "succeeded":
            raise StripeError(400, f"Charge {charge['id']} has not succeeded ({charge['status']}): nothing to refund.")
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            raise StripeError(400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        amount = _int(p, "amount", default=remaining)
        if not 1 <= amount <= remaining:
            raise StripeError(400, f"Refund amount ({money(amount, charge['currency'])}) is greater than unrefunded "
                                   f"amount on charge ({money(remaining, charge['currency'])})", param="amount")
        if p.get("reason") not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise StripeError(400, f"Invalid reason: {p['reason']}", param="reason")
        refund = self._store({
            "id": _new_id("re_"), "object": "refund", "amount": amount, "charge": charge["id"],
            "created": int(self.clock()), "currency": charge["currency"], "metadata": _metadata(p),
            "payment_intent": charge["payment_intent"], "reason": p.get("reason"), "status": "succeeded"},
            call.account)
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("charge.refunded", charge, call.account, request=call.request, previous=previous)
        return copy.deepcopy(refund)

    def _create_account(self, call: _Call) -> dict:
        p = _known(call.params, {"type", "country", "email", "metadata", "business_type", "capabilities",
                                 "business_profile", "default_currency"})
        if not p.get("type"):
            raise _missing("type")
        if p["type"] not in ("express", "standard", "custom"):
            raise StripeError(400, "Invalid type: must be one of express, standard or custom.", param="type")
        country = (p.get("country") or "US").upper()
        return copy.deepcopy(self._store({
            "id": _new_id("acct_1", 15), "object": "account", "business_type": p.get("business_type"),
            "capabilities": {"card_payments": "inactive", "transfers": "inactive"}, "charges_enabled": False,
            "country": country, "created": int(self.clock()),
            "default_currency": p.get("default_currency") or {"US": "usd", "CA": "cad", "GB": "gbp"}.get(country),
            "details_submitted": False, "email": p.get("email"), "metadata": _metadata(p), "payouts_enabled": False,
            "requirements": {"currently_due": ["business_type", "external_account", "tos_acceptance.date"],
                             "disabled_reason": "requirements.past_due"},
            "type": p["type"]}, None))

    def _create_account_link(self, call: _Call) -> dict:
        p = _known(call.params, {"account", "refresh_url", "return_url", "type", "collect", "collection_options"})
        for name in ("account", "type", "refresh_url", "return_url"):
            if not p.get(name):
                raise _missing(name)
        if not self._owned_account(p["account"]):
            raise _no_such("account", p["account"], "account", 400)
        if p["type"] not in ("account_onboarding", "account_update"):
            raise StripeError(400, f"Invalid type: {p['type']}", param="type")
        token, now = secrets.token_urlsafe(18), int(self.clock())
        self._links[token] = {"account": p["account"], "refresh_url": p["refresh_url"],
                              "return_url": p["return_url"], "expires_at": now + 300, "used": False}
        return {"object": "account_link", "created": now, "expires_at": now + 300,
                "url": f"{self.base_url}/connect/onboarding/{token}"}

    # --- pages (with the lock held) --------------------------------------------------------------

    def _checkout_page(self, method: str, session_id: str, action: str | None, pay_with: str | None):
        session = self._objects.get(session_id)
        if not session or session["object"] != "checkout.session":
            return 404, _page("This checkout page does not exist"), {}
        if session["status"] == "expired":
            return 410, _page("This checkout session has expired", "<p>Nothing was charged. Go back and start "
                                                                   "again.</p>"), {}
        if session["status"] == "complete":
            return (200 if method == "GET" else 409), _page("This payment is complete", "<p>Nothing more to do."
                                                                                        "</p>"), {}
        total = money(session["amount_total"], session["currency"])
        if method == "GET" and not action:
            lines = "".join(f"<li>{html.escape(line['name'])} × {line['quantity']}: "
                            f"{money(line['unit_amount'] * line['quantity'], session['currency'])}</li>"
                            for line in self._lines[session_id][0])
            labels = {"card": f"Pay {total} by card", "us_bank_account": f"Pay {total} by bank transfer (ACH)"}
            buttons = [_button(f"/checkout/{session_id}/pay", labels[m], method=m)
                       for m in session["payment_method_types"]]
            if session["cancel_url"]:
                buttons.append(_button(f"/checkout/{session_id}/cancel", "Cancel and go back"))
            return 200, _page(f"Pay {total}", f"<ul>{lines}</ul>", *buttons), {}
        if method == "POST" and action == "/cancel" and session["cancel_url"]:
            return 303, "", {"Location": session["cancel_url"]}
        if method != "POST" or action != "/pay" or pay_with not in session["payment_method_types"]:
            return 400, _page("This payment method is not offered here"), {}
        self._pay(session, pay_with)
        if not session["success_url"]:
            return 200, _page("Thank you", f"<p>{total} {'paid' if pay_with == 'card' else 'is on its way'}.</p>"), {}
        return 303, "", {"Location": session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)}

    def _onboarding_page(self, method: str, token: str, action: str | None):
        link = self._links.get(token)
        if not link:
            return 404, _page("This onboarding link does not exist"), {}
        if link["used"] or link["expires_at"] <= self.clock():  # Stripe's links are single-use and short-lived
            return 303, "", {"Location": link["refresh_url"]}
        if method == "GET":
            email = self._objects[link["account"]]["email"] or link["account"]
            return 200, _page("Set up payments", f"<p>For {html.escape(email)}.</p>",
                              _button(f"/connect/onboarding/{token}", "Agree and submit", action="submit"),
                              _button(f"/connect/onboarding/{token}", "Return without finishing", action="leave")), {}
        link["used"] = True
        if action == "submit":
            self.complete_onboarding(link["account"])
        return 303, "", {"Location": link["return_url"]}
