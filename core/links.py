"""Payment links: ``PUBLIC_BASE_URL/p/<token>``, where the token names one job and expires.

The token is ``<ref>.<expiry>.<signature>``: the signature is an HMAC-SHA256
over the rest with PAYSTAGE_SECRET_KEY, so a link cannot be guessed, changed
to another job, or used after it expires. A newer link goes out with every
due message.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import NotFound
from core.wording.language import N_, _

DEFAULT_TTL = timedelta(days=90)
# What a customer at a dead link reads. "Text PAY" alone did not say to whom: the texts come from our number.
NOT_VALID = N_("This payment link is not valid. To get a new one, reply PAY to the text you got from your contractor.")
EXPIRED = N_("This payment link has expired. To get a new one, reply PAY to the text you got from your contractor.")


@dataclass(frozen=True)
class PaymentLinks:
    base_url: str
    secret: str
    ttl: timedelta = DEFAULT_TTL

    def url(self, ref: str, now: datetime) -> str:
        return f"{self.base_url.rstrip('/')}/p/{self.token(ref, now)}"

    def token(self, ref: str, now: datetime) -> str:
        payload = f"{ref}.{int((now + self.ttl).timestamp())}"
        return f"{payload}.{self._sign(payload)}"

    def job_ref(self, token: str, now: datetime) -> str:
        """The job a token names; NotFound when it was tampered with or has expired."""
        ref, _dot, rest = token.partition(".")
        expiry, _dot, signature = rest.partition(".")
        payload = f"{ref}.{expiry}"
        # bytes, not str: compare_digest raises on a str that is not ASCII, and a link is typed by strangers
        given = signature.encode("utf-8", "surrogateescape")
        if not (expiry.isascii() and expiry.isdigit() and hmac.compare_digest(given, self._sign(payload).encode())):
            raise NotFound(_(NOT_VALID))
        if int(expiry) < now.timestamp():
            raise NotFound(_(EXPIRED))
        return ref

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
