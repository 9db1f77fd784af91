"""`paystage worker` as a separate process, and the backlog it is given, for the reliability tests.

The worker is started exactly as an operator starts it (`python -m paystage.cli worker`, settings from the
environment), its output goes to a log file the failing test shows, and every wait is bounded.
"""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core.context import Actor, Context
from core.jobs import Item, create_job, register_contractor
from core.journal import enqueue
from core.links import PaymentLinks
from storage.database import open_database, upgrade
from storage.models import Customer, Job, OutboxMessage, db
from tests.databases import private_database

REPO = Path(__file__).resolve().parent.parent
CUSTOMER = "+14155550134"


@contextmanager
def backend(kind: str, tmp_path: Path):
    """A DATABASE_URL of our own, migrated, the models bound to it: a SQLite file, or a throwaway PostgreSQL
    database (never the shared `test` one, which concurrent suite runs truncate)."""
    with private_database(kind, tmp_path / "paystage.sqlite3", "paystage_workers") as url:
        database = open_database(url)
        try:
            upgrade(database)
            yield url
        finally:
            database.close()


def seed_backlog(count: int, *, due_at: datetime) -> list[str]:
    """`count` texts to one customer, queued as the use cases queue them; returns their bodies (each unique).

    The customer has no timezone on the rows (quiet hours are switched off for the worker anyway): this is
    about delivery, not about when.
    """
    now = datetime.now(timezone.utc)
    ctx = Context(clock=lambda: now, links=PaymentLinks("https://pay.example", "test-secret"))
    contractor = register_contractor(ctx, business_name="Granite & Co", telegram_id=555)
    view = create_job(ctx, Actor.contractor(contractor.id), customer_name="Dana Whitfield", phone=CUSTOMER,
                      title="Kitchen countertops", items=[Item("Kitchen countertops", 400_000)])
    job = Job.get(Job.ref == view.ref)
    assert Customer.get(Customer.phone == CUSTOMER).opted_out_at is None
    bodies = [f"{view.ref}: payment {n:04d} of {count} is due. Reliability test." for n in range(1, count + 1)]
    with db.atomic():
        for n, body in enumerate(bodies, start=1):
            assert enqueue(channel="sms", recipient=CUSTOMER, body=body, kind="payment_due",
                           key=f"reliability:{n}", now=due_at, job=job)
    return bodies


def outbox_rows() -> list[OutboxMessage]:
    return list(OutboxMessage.select().order_by(OutboxMessage.id))


def wait_until(condition, *, timeout: float, what: str, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(poll)


def worker_env(database_url: str, api, data_dir: Path, *, from_number: str = "+15005550006",
               lease_seconds: float | None = None) -> dict[str, str]:
    """The environment of one worker: ours, without any Paystage setting a developer or CI has set."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAYSTAGE_", "TWILIO_", "TELEGRAM_", "DATABASE_URL", "PUBLIC_BASE_URL"))
           and k not in ("HOST", "PORT")}
    env.update(
        PYTHONUNBUFFERED="1",
        DATABASE_URL=database_url,
        PAYSTAGE_DATA_DIR=str(data_dir),
        PAYSTAGE_SECRET_KEY="reliability-test-secret-" + "x" * 16,  # not one generated per process into a shared dir
        PAYSTAGE_QUIET_HOURS="off",
        PAYSTAGE_SMS_PER_SECOND="0",  # pacing off: the test is about counts, not rate
        TWILIO_ACCOUNT_SID=api.account_sid,
        TWILIO_AUTH_TOKEN=api.auth_token,
        TWILIO_FROM_NUMBER=from_number,
        TWILIO_API_BASE_URL=api.base_url,
    )
    if lease_seconds is not None:
        env["PAYSTAGE_SEND_LEASE_SECONDS"] = f"{lease_seconds:g}"
    return env


class WorkerProcess:
    """One `paystage worker` process; its stdout and stderr go to `log_path`."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "paystage.cli", "worker"], cwd=REPO, env=env,
                                        stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def started(self) -> bool:
        """The worker logged that its loop and dispatcher run (it exits at once if it could not start)."""
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited with {self.process.returncode}:\n{self.log}")
        return "worker started" in self.log

    def kill(self, timeout: float = 10) -> None:
        """SIGKILL: no handler runs, no transaction commits, sockets close mid-request."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=timeout)
        self._log.close()

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as a service manager stops it: finish the send in flight, then exit."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log.close()

    def ensure_dead(self) -> None:
        """For `finally`: whatever happened, this process does not outlive the test."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


def logs(workers: list[WorkerProcess], tail: int = 4000) -> str:
    """The end of every worker's log, for a failure message."""
    return "\n".join(f"--- {w.log_path.name} (pid {w.process.pid}) ---\n{w.log[-tail:]}" for w in workers)


def not_yet_due() -> datetime:
    return datetime.now(timezone.utc) + timedelta(hours=1)


def due_now() -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=1)
