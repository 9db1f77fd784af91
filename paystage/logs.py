"""The process's log: one line per event, as text for a person or as JSON for a log shipper, and nothing in any line
that must not be there, from any logger, at any level.

Libraries log what they are given: at DEBUG python-telegram-bot logs the Bot
API URL with the token in it, httpx logs every request URL at INFO, and an
exception's text may quote a URL or a connection string. So the secrets are
taken out of each finished line at the handler, the last step, whoever wrote it.

Phone numbers too: our own lines name a message by its job and outbox id, never
by whom it is to or by its words, but a provider's error may quote the number
it refused, and a library at DEBUG logs the form it posted. Every E.164 number
in a line keeps its last four digits only (+•••••••0134), percent-encoded ones
(%2B14155550134, as in a form) too.
"""

import json
import logging
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from urllib.parse import quote, quote_plus

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
REDACTED = "[redacted]"
SHORTEST = 4  # a shorter "secret" (a database password of "pw") would blot out words in every line
# a log line per job run or per request is noise at INFO
NOISY = ("apscheduler", "httpx", "stripe", "twilio.http_client", "waitress.queue")
# E.164: a plus and 8 to 15 digits, or its percent-encoded plus; not the tail of a longer word or number
PHONE = re.compile(r"(?<![\w+%])(\+|%2[Bb])\d{4,11}(\d{4})(?!\d)")


def masked(text: str) -> str:
    """`text` with every phone number down to its last four digits."""
    return PHONE.sub(r"\1•••••••\2", text)


class RedactingFormatter(logging.Formatter):
    """Formats a record, traceback included, then replaces every form of every secret in it and masks every phone."""

    def __init__(self, secrets: Iterable[str], fmt: str = FORMAT):
        super().__init__(fmt)
        forms = {form for secret in secrets if len(secret) >= SHORTEST
                 for form in (secret, quote(secret, safe=""), quote_plus(secret))}
        self.forms = sorted(forms, key=len, reverse=True)  # a longer form first: its shorter kin is inside it

    def format(self, record: logging.LogRecord) -> str:
        return self.scrub(super().format(record))

    def scrub(self, text: str) -> str:
        for form in self.forms:
            text = text.replace(form, REDACTED)
        return masked(text)


class JsonFormatter(RedactingFormatter):
    """One JSON object a line: time (UTC), level, logger, message, the job's ref when the line is about one, and the
    traceback when there is one; each text scrubbed before it is encoded (an escaped secret would slip past)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": self.scrub(record.getMessage())}
        if getattr(record, "job", None):
            entry["job"] = record.job
        if record.exc_info:
            entry["exception"] = self.scrub(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.scrub(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str | int, secrets: Iterable[str], form: str = "text") -> None:
    """Log to stderr at `level`, every line through the scrubbing formatter: text, or JSON with `form="json"`."""
    logging.basicConfig(level=level, force=True)
    logging.captureWarnings(True)  # a library's warning is a line like any other: scrubbed, and JSON when that is asked
    formatter = (JsonFormatter if form == "json" else RedactingFormatter)(secrets)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    if logging.getLogger().level > logging.DEBUG:
        for name in NOISY:
            logging.getLogger(name).setLevel(logging.WARNING)
