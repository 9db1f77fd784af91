"""The process's log: one line format, and no secret in any line, from any logger, at any level.

Libraries log what they are given: at DEBUG python-telegram-bot logs the Bot
API URL with the token in it, httpx logs every request URL at INFO, and an
exception's text may quote a URL or a connection string. So the secrets are
taken out of each finished line at the handler, the last step, whoever wrote it.
"""

import logging
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
SHORTEST = 4  # a shorter "secret" (a database password of "pw") would blot out words in every line
# a log line per job run or per request is noise at INFO
NOISY = ("apscheduler", "httpx", "stripe", "twilio.http_client", "waitress.queue")


class RedactingFormatter(logging.Formatter):
    """Formats a record, traceback included, then replaces every form of every secret in it."""

    def __init__(self, secrets: Iterable[str], fmt: str = FORMAT):
        super().__init__(fmt)
        forms = {form for secret in secrets if len(secret) >= SHORTEST
                 for form in (secret, quote(secret, safe=""), quote_plus(secret))}
        self.forms = sorted(forms, key=len, reverse=True)  # a longer form first: its shorter kin is inside it

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for form in self.forms:
            text = text.replace(form, REDACTED)
        return text


def configure_logging(level: str | int, secrets: Iterable[str]) -> None:
    """Log to stderr at `level`, every line through the redacting formatter."""
    logging.basicConfig(level=level, force=True)
    formatter = RedactingFormatter(secrets)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    if logging.getLogger().level > logging.DEBUG:
        for name in NOISY:
            logging.getLogger(name).setLevel(logging.WARNING)
