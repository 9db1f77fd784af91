"""Fake servers for the HTTP services Paystage talks to: real HTTP on 127.0.0.1, never patched library internals."""

from .stripe_api import FakeStripeAPI
from .telegram_api import FakeBotAPI
from .twilio_api import FakeTwilioAPI

__all__ = ["FakeBotAPI", "FakeStripeAPI", "FakeTwilioAPI"]
