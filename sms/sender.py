"""Texts to customers through Twilio's Messages API, or any server that speaks it (TWILIO_API_BASE_URL).

The outbox dispatcher calls `TwilioSender.send` and acts on the DeliveryError it may raise: a customer who
opted out or a number that cannot take texts is never retried; anything else (Twilio down, a timeout, bad
credentials) is retried later, because a misconfiguration should not throw away customer messages.
"""

import threading
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from core.delivery import DeliveryError, Outgoing


class BaseUrlHttpClient(TwilioHttpClient):
    """Twilio's HTTP client, sending every request to `base_url`'s scheme and host (the REST host is hard-coded).

    It also keeps each thread's last response: Twilio's exception drops the headers, and a 429's Retry-After
    is in them.
    """

    def __init__(self, base_url: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.base = base = urlsplit(base_url) if base_url else None
        if base and (base.scheme not in ("http", "https") or not base.hostname or base.path.strip("/")):
            raise ValueError(f"TWILIO_API_BASE_URL={base_url!r} must be a scheme and a host, like http://127.0.0.1:8080")
        self.last = threading.local()
        # requests reads the environment (proxies, CA bundle) again on every request: 15-20% of a send
        # (docs/benchmarks.md, "Dispatch"); requests reads it once here instead, with the same meaning
        if self.session is not None:
            found = self.session.merge_environment_settings(base_url or "https://api.twilio.com", {}, None, None, None)
            self.proxy = self.proxy or found["proxies"]
            self.session.verify = found["verify"]
            self.session.trust_env = False

    def request(self, method, url, *args, **kwargs):
        if self.base:
            url = urlsplit(url)._replace(scheme=self.base.scheme, netloc=self.base.netloc).geturl()
        self.last.response = None
        self.last.response = super().request(method, url, *args, **kwargs)
        return self.last.response


class TwilioSender:
    """Sends one Outgoing text; returns Twilio's Message SID or raises DeliveryError."""

    OPTED_OUT = 21610  # the customer texted STOP: Twilio refuses every text until they send START
    PERMANENT_CODES = frozenset({
        21211,  # invalid 'To' number
        21408,  # no permission to text the 'To' number's region
        21612,  # 'To' cannot take texts (a landline, or no route)
        21614,  # 'To' is not a mobile number
        30005,  # unknown handset (status callbacks); 30003, a handset switched off, is worth another try
        30006,  # landline or unreachable carrier (status callbacks)
    })
    BAD_CREDENTIALS = frozenset({401, 403})

    def __init__(self, account_sid: str, auth_token: str, *, from_number: str | None = None,
                 messaging_service_sid: str | None = None, api_base_url: str | None = None,
                 status_callback: str | None = None, timeout: float = 10.0):
        if not (account_sid and auth_token):
            raise ValueError("a Twilio account SID and auth token are both required")
        if bool(from_number) == bool(messaging_service_sid):
            raise ValueError("give exactly one of from_number and messaging_service_sid")
        self.sender = {"from_": from_number} if from_number else {"messaging_service_sid": messaging_service_sid}
        if status_callback:
            self.sender["status_callback"] = status_callback
        self.http = BaseUrlHttpClient(api_base_url, timeout=timeout)
        self.client = Client(account_sid, auth_token, http_client=self.http)
        self._secret = auth_token

    def send(self, message: Outgoing) -> str:
        try:
            return self.client.messages.create(to=message.recipient, body=message.body, **self.sender).sid
        except (TwilioRestException, TwilioServiceException) as e:
            raise self._refused(e) from e
        except requests.ReadTimeout as e:
            # Twilio may have accepted it and the answer got lost; its API has no idempotency key to ask with.
            raise self._error(f"Twilio did not answer within {self.http.timeout:g} s (the text may have gone)") from e
        except (requests.RequestException, TwilioException) as e:
            raise self._error(f"could not reach Twilio: {e.__class__.__name__}: {e}") from e

    def _refused(self, e: TwilioRestException | TwilioServiceException) -> DeliveryError:
        text = getattr(e, "msg", None) or getattr(e, "detail", None) or getattr(e, "title", "")
        reason = f"Twilio {e.code} (HTTP {e.status}): {text}"
        if e.code == self.OPTED_OUT:
            return self._error(reason, opted_out=True)
        if e.code in self.PERMANENT_CODES:
            return self._error(reason, permanent=True)
        if e.status in self.BAD_CREDENTIALS:
            return self._error(f"{reason}; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if e.status == 429:
            return self._error(reason, retry_after=self._retry_after())
        return self._error(reason)

    def _retry_after(self) -> float | None:
        """The last response's Retry-After, in seconds (what Twilio sends; an HTTP date counts as not given)."""
        response = getattr(self.http.last, "response", None)
        try:
            return max(0.0, float(response.headers["Retry-After"]))
        except (AttributeError, KeyError, TypeError, ValueError):
            return None

    def _error(self, reason: str, **kwargs) -> DeliveryError:
        # Error text is stored and logged: the auth token must never reach it, whatever a library put in.
        return DeliveryError(reason.replace(self._secret, "[auth token]"), **kwargs)
