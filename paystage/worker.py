"""The time-driven loop and the outbox dispatcher, run by `paystage worker` (and inside `paystage run`).

APScheduler drives the loop: a scan every `scan_every` (found: payments that
fell due, overdue reminders, day-before warnings), plus one precise date job
at the next moment anything falls due, so a due moment fires within seconds
rather than at the next scan. Nothing lives only in the scheduler: its jobs
are rebuilt from the database at start (explicit ids, replace_existing), the
first scan runs at once — a process that was down sends what fell due
meanwhile — and late jobs run late rather than being dropped
(misfire_grace_time=None).

The dispatcher is a thread of its own rather than a scheduler job: a drain
can take longer than the poll interval, and it is woken at once when anything
queues a message: the loop, the bot's /done and the web app of this process as
soon as their transaction commits, and on PostgreSQL any other process too
(a LISTEN; storage/wake.py). The poll stays as the safety net.

A send waits for the provider's answer (a round trip to Twilio), so one
dispatcher sends one text at a time. `dispatchers` threads send side by side,
each claiming its own batch; each has at most one text in flight, so a worker
killed mid-send may send that many texts twice (one with the default of one).
They share one wake: whichever clears it drains after clearing, so no wake is
lost.

With online payments the worker also reconciles: every `reconcile_every`,
and once at start, it applies what the payment provider could not deliver to
the web app (down, or answering 500). An event is applied once however it
arrives, so a webhook that gets through later changes nothing. A provider
outage is one line in the log and another try at the next run.

Each turn is recorded in the database (core/health.py): /healthz in any
process tells from it whether the loop still turns, and /metrics when it last
did and how long that took.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta, timezone
from typing import Protocol

from apscheduler.schedulers.background import BackgroundScheduler

from core.checkout import PaymentsUnavailable
from core.context import Context
from core.dispatcher import Dispatcher
from core.health import record_turn
from core.loop import turn
from core.reminders import next_moment
from storage.models import db

log = logging.getLogger(__name__)


class Reconcile(Protocol):
    def __call__(self, *, stopping: Callable[[], bool]) -> object:
        """Apply the provider's undelivered events (until `stopping()`); PaymentsUnavailable when it is down."""


class Worker:
    def __init__(self, ctx: Context, dispatcher: Dispatcher, *, scan_every: timedelta = timedelta(seconds=30),
                 poll: float = 0.2, reconcile: Reconcile | None = None,
                 reconcile_every: timedelta = timedelta(minutes=5), dispatchers: int = 1):
        self.ctx = ctx
        self.dispatcher = dispatcher
        self.scan_every = scan_every
        self.poll = poll
        self._reconcile = reconcile
        self.reconcile_every = reconcile_every
        self.scheduler = BackgroundScheduler(
            timezone=timezone.utc, job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1})
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._scanning = threading.Lock()  # held for a whole scan, so stop() can wait for one in flight
        self._reconciling = threading.Lock()  # likewise for a reconciliation
        self._threads = [threading.Thread(target=self._dispatch_until_stopped, name="dispatcher", daemon=True)
                         for _ in range(dispatchers)]
        self._watch = None  # woken by what is queued, from start() to stop()

    def start(self) -> None:
        self._watch = self.dispatcher.watch_queue(self._wake.set)
        self.scheduler.add_job(self.scan, "interval", seconds=self.scan_every.total_seconds(), id="scan",
                               replace_existing=True, next_run_time=self.ctx.clock())
        if self._reconcile:
            self.scheduler.add_job(self.reconcile, "interval", seconds=self.reconcile_every.total_seconds(),
                                   id="reconcile", replace_existing=True, next_run_time=self.ctx.clock())
        self.scheduler.start()
        for thread in self._threads:
            thread.start()
        log.info("worker started: scan every %s, %d dispatcher(s) polling every %.2fs%s", self.scan_every,
                 len(self._threads), self.poll,
                 f", reconciling payments every {self.reconcile_every}" if self._reconcile else "")

    def stop(self) -> None:
        """Stop taking work; a scan, a send or a reconciliation in flight finishes first (the last between events)."""
        self._stop.set()
        # Not shutdown(wait=True): it holds the scheduler's lock while it waits, and a scan in flight needs
        # that lock to add its next-moment job. Waiting for the scan ourselves avoids that deadlock.
        with self._scanning, self._reconciling:
            self.scheduler.shutdown(wait=False)
        self._wake.set()
        for thread in self._threads:
            thread.join()
        if self._watch:
            self._watch.close()
        log.info("worker stopped")

    def scan(self) -> None:
        """One turn of the loop, then a date job for the next moment something is due."""
        with self._scanning:
            if not self._stop.is_set():
                self._scan()

    def _scan(self) -> None:
        started = time.perf_counter()
        with db.connection_context():
            done = turn(self.ctx)
            upcoming = next_moment(self.ctx.clock())
            record_turn(self.ctx.clock(), timedelta(seconds=time.perf_counter() - started), self.scan_every)
        if done.announced or done.reminded or done.warned:  # their commit woke the dispatcher
            log.info("queued: %d due, %d reminders, %d warnings", len(done.announced), len(done.reminded),
                     len(done.warned))
        if upcoming is not None:
            self.scheduler.add_job(self.scan, "date", run_date=upcoming, id="next-moment", replace_existing=True)

    def reconcile(self) -> None:
        """Apply what the payment provider could not deliver to the web app; an outage waits for the next run."""
        with self._reconciling:
            if self._stop.is_set() or self._reconcile is None:
                return
            try:
                with db.connection_context():
                    self._reconcile(stopping=self._stop.is_set)
            except PaymentsUnavailable as error:
                log.warning("reconciling payments: %s; trying again in %s", error, self.reconcile_every)
            except Exception:
                log.exception("reconciling payments failed; trying again in %s", self.reconcile_every)

    def _dispatch_until_stopped(self) -> None:
        # one connection for the thread's life: opening and closing one every poll would make SQLite
        # checkpoint its WAL five times a second
        db.connect(reuse_if_open=True)
        try:
            while not self._stop.is_set():
                try:
                    self.dispatcher.drain(stopping=self._stop.is_set)
                except Exception:
                    log.exception("dispatching failed; trying again with a fresh connection")
                    db.close()  # the next query connects anew
                self._wake.wait(self.poll)
                self._wake.clear()
        finally:
            db.close()
