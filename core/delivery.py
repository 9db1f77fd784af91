"""What the outbox dispatcher hands to a channel's sender, and what a sender may answer.

A sender (SMS through Twilio, Telegram through the Bot API, or a logging
stand-in) takes one `Outgoing` message and returns the provider's id for it,
or raises `DeliveryError`. `permanent` errors are never retried (an invalid
number, an opted-out customer, a bot the contractor blocked); others are
retried with backoff, no sooner than `retry_after` seconds when the provider
said so.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    id: int
    channel: str  # sms, telegram
    recipient: str  # E.164 phone, or Telegram chat id
    body: str
    kind: str


class DeliveryError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False, opted_out: bool = False,
                 retry_after: float | None = None):
        super().__init__(reason)
        self.permanent = permanent or opted_out
        self.opted_out = opted_out  # the recipient said STOP: record it, send nothing more
        self.retry_after = retry_after


class Sender(Protocol):
    def send(self, message: Outgoing) -> str:
        """Deliver `message`; return the provider's id for it, or raise DeliveryError."""


class LoggingSender:
    """Stands in for a channel that is not configured: logs what would be sent, at DEBUG, as a message's words
    and whom it is to are never logged at INFO (the dispatcher says at INFO that it went, as "logged-ID")."""

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, message: Outgoing) -> str:
        log.debug("%s to %s (%s): %s", self.channel, message.recipient, message.kind, message.body)
        return f"logged-{message.id}"
