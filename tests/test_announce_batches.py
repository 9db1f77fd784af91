"""The scan announces due milestones in batches (core.due): one claim, one read of the jobs, one insert per batch.

Each text exactly once whatever happens: a scan killed inside a batch leaves that batch wholly undone for the
next scan; scans racing each other announce every milestone once between them; a milestone paid after the scan
read it is not asked for. With RETURNING (PostgreSQL, SQLite from 3.35) and without it (the claim read, then
updated, in one transaction).
"""

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from peewee import SqliteDatabase

import core.due
from core.due import announce_all_due, returns_rows
from core.views import job_view
from core.wording import customer_texts
from storage.models import Contractor, Customer, Job, LineItem, Milestone, OutboxMessage, db
from tests.databases import POSTGRES_URL

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["returning", "read-then-update"])
def claim(request, monkeypatch, database):
    """Both ways of claiming: UPDATE ... RETURNING, and the claim for a SQLite without it."""
    if request.param == "read-then-update":
        monkeypatch.setattr(core.due, "returns_rows", lambda: False)
    else:
        assert returns_rows()  # PostgreSQL, and the SQLite this runs on (3.35 or later)
    return request.param


def due_jobs(ctx, count: int, *, businesses: int = 1, phones: int | None = None) -> list[Job]:
    """`count` jobs whose plan was sent a week ago, each with a deposit paid and two payments due since an hour
    (no texts queued yet: as the scan finds them); job n belongs to business n % businesses and phone n % phones."""
    now, phones = ctx.clock(), phones or count
    contractors = [Contractor.create(business_name=f"Business {b}", telegram_id=900 + b, timezone="America/New_York",
                                     currency="USD", locale="en_US", created_at=now - timedelta(days=30))
                   for b in range(businesses)]
    jobs = []
    for n in range(count):
        contractor = contractors[n % businesses]
        phone = f"+1415555{1000 + n % phones:04d}"
        customer = (Customer.get_or_none(Customer.contractor == contractor, Customer.phone == phone)
                    or Customer.create(contractor=contractor, name=f"Customer {n}", phone=phone,
                                       timezone="America/Chicago", created_at=now - timedelta(days=8)))
        job = Job.create(ref=f"J-T{n:03d}", contractor=contractor, customer=customer, title=f"Kitchen {n}",
                         currency="USD", locale="en_US", plan_sent_at=now - timedelta(days=7),
                         created_at=now - timedelta(days=8))
        LineItem.create(job=job, position=0, description="Countertops", amount=300_000 + n * 100)
        for position, (label, paid, due) in enumerate([("Deposit", True, timedelta(days=7)),
                                                      ("Materials", False, timedelta(hours=1)),
                                                      ("Templating", False, timedelta(hours=1))]):
            amount = (300_000 + n * 100) // 3
            Milestone.create(job=job, position=position, label=label, percent=3333, trigger_kind="now",
                             amount=amount, paid=amount if paid else 0, due_at=now - due,
                             announced_at=now - due if paid else None)
        jobs.append(job)
    return jobs


def open_milestones() -> list[Milestone]:
    return list(Milestone.select().where(Milestone.paid < Milestone.amount).order_by(Milestone.id))


def texts(kind: str) -> list[OutboxMessage]:
    return list(OutboxMessage.select().where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))


def test_the_scan_queues_each_due_text_once_in_batches_worded_as_for_the_job_alone(ctx, claim, monkeypatch):
    monkeypatch.setattr(core.due, "BATCH", 4)  # 14 milestones: four batches, the jobs split between them
    jobs = due_jobs(ctx, 7)
    now = ctx.clock()
    assert announce_all_due(ctx) == [m.id for m in open_milestones()]
    assert announce_all_due(ctx) == []  # a second scan finds nothing new

    due = texts("payment_due")
    assert [t.dedupe_key for t in due] == [f"milestone:{m.id}:due" for m in open_milestones()]
    for job in jobs:
        view = job_view(job, now)
        link = ctx.links.url(job.ref, now)
        expected = [customer_texts.payment_due(view, m, link) for m in view.milestones if m.label != "Deposit"]
        assert [(t.body, t.recipient, t.timezone) for t in due if t.job_id == job.id] == [
            (body, "+1415555" + f"{1000 + jobs.index(job):04d}", "America/Chicago") for body in expected]
    assert all(t.state == "pending" and t.next_attempt_at == now and not t.reply for t in due)
    for m in open_milestones():
        assert m.announced_at == now and m.next_reminder_at == now + ctx.reminders.first


def test_a_batch_queues_one_consent_text_per_business_and_phone_before_their_texts(ctx, claim):
    due_jobs(ctx, 6, businesses=2, phones=2)  # jobs 0, 2, 4: business 0, phone 0; jobs 1, 3, 5: business 1, phone 1
    announce_all_due(ctx)
    consents = texts("consent")
    assert sorted(t.dedupe_key for t in consents) == sorted(
        f"consent:{c.id}:{p}" for c, p in zip(Contractor.select().order_by(Contractor.id), ["+14155551000",
                                                                                          "+14155551001"]))
    assert [t.body.split(":")[0] for t in consents] == ["Business 0", "Business 1"]
    assert max(t.id for t in consents) < min(t.id for t in texts("payment_due"))  # each consent before any text
    assert len(texts("payment_due")) == 12

    more = due_jobs_for_known_phone(ctx)
    announce_all_due(ctx)
    assert len(texts("consent")) == 2  # that business already texted that phone: no second consent
    assert [t.job_id for t in texts("payment_due")[-1:]] == [more.id]


def due_jobs_for_known_phone(ctx) -> Job:
    """One more job of business 0 for phone 0, due now."""
    first = Job.get(Job.ref == "J-T000")
    job = Job.create(ref="J-T100", contractor=first.contractor, customer=first.customer, title="Bathroom",
                     currency="USD", locale="en_US", plan_sent_at=ctx.clock(), created_at=ctx.clock())
    Milestone.create(job=job, position=0, label="Deposit", trigger_kind="now", amount=50_000, due_at=ctx.clock())
    return job


KILLED_IN_SECOND_BATCH = """
import os, signal, sys
from datetime import datetime
import core.due
from core.clock import FrozenClock
from core.context import Context
from core.links import PaymentLinks
from storage.database import open_database

open_database(sys.argv[1])
core.due.BATCH = 4
queue, batches = core.due.text_customers, []

def queue_then_die_in_the_second_batch(texts, now):
    queued = queue(texts, now)
    batches.append(len(texts))
    if len(batches) == 2:  # claimed and queued, the transaction not committed
        os.kill(os.getpid(), signal.SIGKILL)
    return queued

core.due.text_customers = queue_then_die_in_the_second_batch
if sys.argv[3] == "read-then-update":
    core.due.returns_rows = lambda: False
core.due.announce_all_due(Context(clock=FrozenClock(datetime.fromisoformat(sys.argv[2])),
                                  links=PaymentLinks("https://pay.example", "test-secret")))
"""


def test_a_scan_killed_inside_a_batch_leaves_that_batch_whole_to_the_next_scan(ctx, claim, database):
    due_jobs(ctx, 6, businesses=2)
    url = f"sqlite:///{database.database}" if isinstance(database, SqliteDatabase) else POSTGRES_URL
    database.close()  # SQLite: nothing of ours open while the scan writes (it would be, in another process)
    scan = subprocess.run([sys.executable, "-c", KILLED_IN_SECOND_BATCH, url, ctx.clock().isoformat(), claim],
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                          timeout=60)
    assert scan.returncode == -9, scan.stderr  # SIGKILL, where the test put it
    announced = [m for m in open_milestones() if m.announced_at]
    assert len(announced) == 4  # the first batch, committed; nothing of the second
    assert sorted(t.dedupe_key for t in texts("payment_due")) == sorted(f"milestone:{m.id}:due" for m in announced)

    assert len(announce_all_due(ctx)) == 8  # the rest, the killed batch included
    assert sorted(t.dedupe_key for t in texts("payment_due")) == sorted(
        f"milestone:{m.id}:due" for m in open_milestones())
    assert len(texts("consent")) == 6  # one per business and phone, however the batches fell


def test_scans_racing_each_other_announce_every_milestone_once(ctx, claim, monkeypatch):
    monkeypatch.setattr(core.due, "BATCH", 3)
    due_jobs(ctx, 20, businesses=3, phones=7)
    scans, start, won, failures = 4, threading.Barrier(4), [], []

    def scan() -> None:
        try:
            with db.connection_context():
                start.wait(timeout=10)
                won.append(announce_all_due(ctx))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            failures.append(error)

    threads = [threading.Thread(target=scan) for _ in range(scans)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    every = [milestone for ids in won for milestone in ids]
    assert sorted(every) == [m.id for m in open_milestones()]  # each won by exactly one scan
    assert sorted(t.dedupe_key for t in texts("payment_due")) == sorted(f"milestone:{m}:due" for m in every)
    assert len(texts("consent")) == len({(n % 3, n % 7) for n in range(20)})  # one per business and phone


def test_a_milestone_paid_after_the_scan_read_it_is_not_asked_for(ctx, claim, monkeypatch):
    monkeypatch.setattr(core.due, "BATCH", 2)
    due_jobs(ctx, 2)
    first, *others = open_milestones()
    announce = core.due._announce

    def pay_the_first_milestone_then_announce(*args, **kwargs):
        Milestone.update(paid=Milestone.amount).where(Milestone.id == first.id).execute()  # a payment comes in
        return announce(*args, **kwargs)

    monkeypatch.setattr(core.due, "_announce", pay_the_first_milestone_then_announce)
    assert announce_all_due(ctx) == [m.id for m in others]
    assert f"milestone:{first.id}:due" not in {t.dedupe_key for t in texts("payment_due")}
    assert Milestone.get_by_id(first.id).announced_at is None
