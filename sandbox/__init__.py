"""Local stand-ins for the services Paystage talks to: Telegram's Bot API, Twilio's Messages API, and Stripe's API
with its hosted checkout and signed webhooks. Each is a real HTTP server on 127.0.0.1 speaking the real wire protocol,
so the real clients (python-telegram-bot, twilio, stripe-python, our senders) talk to it unchanged.

The tests run the product against them, and the sandbox (`paystage run` with no accounts; docs/design.md,
"Sandbox") is to run it against the same servers: one implementation of each protocol. Of the product, only
paystage/ may import this package (the tests and benchmarks do too), and it imports neither pytest nor anything of
the tests.
"""

from .stripe_api import LocalStripeAPI
from .telegram_api import LocalBotAPI
from .twilio_api import LocalTwilioAPI

__all__ = ["LocalBotAPI", "LocalStripeAPI", "LocalTwilioAPI"]
