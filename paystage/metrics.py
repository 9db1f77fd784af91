"""/metrics: what one process knows, in the Prometheus text format, on 127.0.0.1:METRICS_PORT only.

Counted where it happens, in the process it happens in: send attempts by the worker's dispatcher (its `observe`),
requests by the web app (its `on_request`), updates by the bot. Read from the database at each scrape, so every
process says the same and none has to be the one running: the outbox's queue and the worker's last turn
(core/health.py). `paystage run` serves all of it on one port; `paystage web` and `paystage worker`, each started
with a METRICS_PORT of its own, serve what each knows. Off by default, and never on a public address: the queue's
size is the business's, and an answer costs a database read.
"""

import logging
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, start_wsgi_server
from prometheus_client.core import GaugeMetricFamily

from core.clock import Clock, system_clock
from core.health import last_turn, waiting
from paystage.settings import Settings, Unavailable

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
CHANNELS = ("sms", "telegram")
OUTCOMES = ("sent", "failed", "permanent")
# queued to sent: seconds for a text sent at once; hours for one held overnight by quiet hours or retried
WAITED_BUCKETS = (1, 5, 15, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600)


class Metrics:
    """One process's metrics, in a registry of its own. With `database` (a peewee Database, now or later through
    read_database), each scrape also reads the outbox's queue and the worker's last turn from it, on a connection
    of the scrape's own, as of `clock`."""

    def __init__(self, clock: Clock = system_clock, database=None):
        self.clock = clock
        self.registry = CollectorRegistry()
        self.attempts = Counter("paystage_send_attempts", "Send attempts by channel and outcome: sent; failed, to be "
                                "retried; permanent, failed for good", ["channel", "outcome"], registry=self.registry)
        self.waited = Histogram("paystage_queued_to_sent_seconds", "From a message's queueing (its cause: a payment "
                                "falling due, a reply) to the provider accepting it; quiet hours and retries "
                                "included", ["channel"], buckets=WAITED_BUCKETS, registry=self.registry)
        for channel in CHANNELS:  # every series from the start: a rate() needs its zero
            self.waited.labels(channel)
            for outcome in OUTCOMES:
                self.attempts.labels(channel, outcome)
        self.requests = Counter("paystage_http_requests", "Requests the web app answered, by route and status",
                                ["route", "status"], registry=self.registry)
        self.request_seconds = Histogram("paystage_http_request_duration_seconds", "How long the web app took to "
                                         "answer, by route", ["route"], registry=self.registry)
        self.bot_updates = Counter("paystage_bot_updates", "Telegram updates the bot took in", registry=self.registry)
        self._server = None
        if database is not None:
            self.read_database(database)

    def read_database(self, database) -> None:
        self.registry.register(_Stored(database, self.clock))

    def observe(self, channel: str, outcome: str, waited: timedelta | None) -> None:
        """The dispatcher's observer (core.dispatcher.Observe)."""
        self.attempts.labels(channel, outcome).inc()
        if waited is not None:
            self.waited.labels(channel).observe(max(waited.total_seconds(), 0))

    def on_request(self, route: str, status: int, seconds: float) -> None:
        """The web app's (sms.app.create_app)."""
        self.requests.labels(route, str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)

    def watch_bot(self, application) -> None:
        """Count every update the bot's Application takes in, ahead of its own handlers (which it does not stop)."""
        from telegram import Update
        from telegram.ext import TypeHandler

        async def count(update, context):
            self.bot_updates.inc()

        application.add_handler(TypeHandler(Update, count), group=min(application.handlers, default=0) - 1)

    def text(self) -> bytes:
        return generate_latest(self.registry)

    def serve(self, port: int) -> int:
        """Answer GET /metrics (any path, as prometheus-client does) on 127.0.0.1:`port` from a thread of its own;
        returns the port (the one given, or the one chosen for 0)."""
        try:
            self._server, _ = start_wsgi_server(port, HOST, self.registry)
        except OSError as error:
            raise Unavailable(f"METRICS_PORT={port}: {HOST}:{port} is not free ({error.strerror}): "
                              "give each process a port of its own") from None
        port = self._server.server_port
        log.info("metrics on http://%s:%d/metrics", HOST, port)
        return port

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _Stored:
    """The gauges read from the database when scraped: right in every process, however many there are."""

    def __init__(self, database, clock: Clock):
        self.database, self.clock = database, clock

    def collect(self):
        now = self.clock()
        up = GaugeMetricFamily("paystage_database_up", "Whether the database answered this scrape (1) or not (0)")
        try:
            with self.database.connection_context():  # the scrape's thread: one connection, closed after
                queue, turn = waiting(now), last_turn()
        except Exception as error:  # whatever the driver raises, the answer is the same
            log.warning("metrics: the database does not answer (%s)", error.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        queued = GaugeMetricFamily("paystage_outbox_queued", "Messages waiting to be sent (held ones included)",
                                   labels=["channel"])
        late = GaugeMetricFamily("paystage_outbox_oldest_due_seconds", "How long the longest-waiting message that "
                                 "is due now has waited since it was due (0: none waits)", labels=["channel"])
        for channel in sorted({*CHANNELS, *queue}):
            waits = queue.get(channel)
            queued.add_metric([channel], waits.count if waits else 0)
            late.add_metric([channel], _since(waits and waits.due_since, now))
        yield queued
        yield late
        if turn is not None:
            yield GaugeMetricFamily("paystage_scheduler_last_turn_timestamp_seconds", "When the worker's last turn "
                                    "of the loop ended (Unix time)", value=turn.at.timestamp())
            yield GaugeMetricFamily("paystage_scheduler_last_turn_duration_seconds", "How long the worker's last "
                                    "turn of the loop took", value=turn.took.total_seconds())


def _since(moment: datetime | None, now: datetime) -> float:
    return max((now - moment).total_seconds(), 0) if moment else 0


def serve_metrics(settings: Settings, metrics: Metrics, database) -> None:
    """`metrics`, with what `database` holds, on 127.0.0.1:METRICS_PORT when it is set (Unavailable when taken)."""
    metrics.read_database(database)
    if settings.metrics_port:
        metrics.serve(settings.metrics_port)
