"""Scan scale: one scan of the loop when nothing is due, with 10,000 to 1,000,000 milestones, SQLite and PostgreSQL.

    .venv/bin/python bench/scan_scale.py [--backends sqlite,postgresql] [--sizes 10000,100000,1000000] [--scans 50]
        [--turns 5] [--postgres-url postgresql://postgres@127.0.0.1:5432] [--due 10000]

Goals (issue 3): one scan when nothing is due <= 20 ms and flat from 10,000 to 1,000,000 milestones (the scan
reads an index, not the table); the 10,000 milestones that fall due at once queued in <= 5 s.

Timed at each size, medians: `core.due.announce_all_due` (the scan for milestones that fell due) and
`core.reminders.next_moment` (when the loop wakes next), `--scans` runs each; `core.loop.turn` (that scan, overdue
reminders and day-before warnings: what the worker runs every 30 s), `--turns` runs; and the scan's own query with
one milestone made due (where a planner that expects many rows shows it). The milestones are seeded with batched
insert_many in transactions, grown to each size in turn, as half a year of a busy installation looks: 4 milestones a
job (a deposit, one before the measurement, one after the removal, one after the installation), jobs started over
the last 180 days; the past milestones announced and nearly all paid (the unpaid ones wait for a reminder), the
future ones not announced, with a due moment ("before") or none yet ("after" an event not done); 5% of the jobs are
drafts whose plan was never sent. Nothing is due at the clock the scans run with. The SQL each step runs is recorded
and its query plan printed at the largest size. On PostgreSQL the tables are ANALYZEd after each seeding step, as
autovacuum would; SQLite gets no ANALYZE, as in production.

The day-before warning reads only the events that came within a day since the last turn; a process's first turn
(and one an hour) reads the whole next day. So `turn` is timed as the loop runs it, and the whole-day read on its own
(`--scans` runs, each after `forget_what_was_read`, as a restart); seeding writes behind the use cases' back, so what
was read is forgotten after each seeding step.

Then 10,000 (`--due`) more jobs get a "before" milestone whose due moment has just passed (their events are tomorrow),
and one `announce_all_due` is timed: it queues the 10,000 payment-due texts, in batches of `core.due.BATCH`. Their
plans were sent, so the consent texts sending them queued are in the outbox. Side by side in the same run, on as many
more jobs each: the announcing before issue 11 (`announce_all_due_per_job` below, a copy of it: one transaction, a
claim per milestone and a full job view per job), the batches once more, and the batches for jobs whose phones never
had a text from their business (a consent text to queue with each: the worst case, which sending a plan first avoids).

PostgreSQL runs in a database of its own, `paystage_bench_<pid>`, dropped at the end.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import due as core_due  # noqa: E402
from core.clock import FrozenClock  # noqa: E402
from core.context import Context  # noqa: E402
from core.due import announce_all_due  # noqa: E402
from core.journal import text_customer  # noqa: E402
from core.links import PaymentLinks  # noqa: E402
from core.loop import turn  # noqa: E402
from core.reminders import forget_what_was_read, next_moment, remind_overdue, warn_unpaid_before_events  # noqa: E402
from core.views import job_view  # noqa: E402
from core.wording import customer_texts  # noqa: E402
from storage.models import (  # noqa: E402
    Contractor,
    Customer,
    Event,
    Job,
    LineItem,
    Milestone,
    OutboxMessage,
    Payment,
    db,
)
from tests.databases import migrated_database  # noqa: E402

NOW = datetime(2026, 12, 1, 15, tzinfo=timezone.utc)
CONTRACTORS = 50
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
JOBS_PER_STATEMENT = 400  # 1,600 milestone rows of 16 columns: under SQLite's 32,766 variables
JOBS_PER_TRANSACTION = 5_000

CUSTOMER_FIELDS = [Customer.id, Customer.contractor, Customer.name, Customer.phone, Customer.timezone,
                   Customer.created_at]
JOB_FIELDS = [Job.id, Job.ref, Job.contractor, Job.customer, Job.title, Job.currency, Job.locale, Job.state,
              Job.plan_sent_at, Job.created_at]
EVENT_FIELDS = [Event.id, Event.job, Event.position, Event.name, Event.scheduled_at, Event.state, Event.done_at]
MILESTONE_FIELDS = [Milestone.id, Milestone.job, Milestone.position, Milestone.label, Milestone.percent,
                    Milestone.trigger_kind, Milestone.event, Milestone.lead_minutes, Milestone.net_days,
                    Milestone.amount, Milestone.paid, Milestone.due_at, Milestone.announced_at,
                    Milestone.reminders_sent, Milestone.next_reminder_at]
# label, percent, kind, event position (None: no event), amount of a $4,000.00 job
TERMS = [("Deposit", 2000, "now", None, 80_000), ("Before Measurement", 2000, "before", 0, 80_000),
         ("After Removal", 3000, "after", 1, 120_000), ("After Installation", 3000, "after", 2, 120_000)]
EVENTS = [("Measurement", 7), ("Removal", 14), ("Installation", 21)]  # days after the plan was sent


# --- databases -------------------------------------------------------------------------------------

def bench_database(backend: str, postgres_url: str, folder: str):
    """A fresh, migrated database of its own; a PostgreSQL one is dropped afterwards."""
    kind = "sqlite" if backend == "sqlite" else "postgres"
    return migrated_database(kind, Path(folder), "paystage_bench_scan", postgres_url)


def after_seeding(database) -> None:
    """PostgreSQL: new statistics (autovacuum would), and sequences past the ids seeding chose. Either: the turns
    forget what they read, as a restart does (seeding wrote behind the use cases' back)."""
    forget_what_was_read()
    if db.for_update:  # PostgreSQL
        for model in (Contractor, Customer, Job, Event, Milestone, LineItem, Payment):
            table = model._meta.table_name
            database.execute_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")
        database.execute_sql("ANALYZE")


# --- seeding ---------------------------------------------------------------------------------------

def seed_contractors() -> None:
    Contractor.insert_many([dict(id=c, telegram_id=10_000 + c, business_name=f"Bench Co {c}", currency="USD",
                                 timezone="America/New_York", locale="en_US", created_at=NOW - 400 * DAY)
                            for c in range(1, CONTRACTORS + 1)]).execute()


def job_rows(j: int, rng: random.Random) -> tuple[tuple, tuple, list[tuple], list[tuple]]:
    """Job number `j` (from 0): its customer, job, 3 event and 4 milestone rows, with ids derived from `j`."""
    contractor = j % CONTRACTORS + 1
    started = NOW - rng.uniform(0, 180) * DAY
    draft = rng.random() < 0.05
    sent_at = None if draft else started
    customer = (j + 1, contractor, f"Customer {j}", f"+1415{2_000_000 + j:07d}", "America/New_York", started)
    job = (j + 1, f"J-B{j:07d}", contractor, j + 1, "Kitchen countertops", "USD", "en_US", "active", sent_at,
           started)
    events, done_at = [], []
    for position, (name, days) in enumerate(EVENTS):
        at = started + days * DAY + rng.randint(-3, 3) * HOUR
        done = at + 4 * HOUR if at + 4 * HOUR <= NOW else None
        done_at.append(done)
        events.append((3 * j + position + 1, j + 1, position, name, at, "done" if done else "scheduled", done))
    milestones = []
    for position, (label, percent, kind, event, amount) in enumerate(TERMS):
        if draft:
            due_at = None
        elif kind == "now":
            due_at = sent_at
        elif kind == "before":
            due_at = events[event][4] - DAY
        else:
            due_at = done_at[event]
        announced = due_at if due_at is not None and due_at <= NOW else None
        paid = amount if announced and (position == 0 or rng.random() < 0.95) else 0
        reminders, next_reminder = 0, None
        if announced and not paid:  # waiting for its next reminder (the loop has kept up)
            reminders = rng.randint(0, 2)
            next_reminder = NOW + rng.uniform(1, 168) * HOUR
        milestones.append((4 * j + position + 1, j + 1, position, label, percent, kind,
                           3 * j + event + 1 if event is not None else None, 1440 if kind == "before" else 0, 0,
                           amount, paid, due_at, announced, reminders, next_reminder))
    return customer, job, events, milestones


def seed(first_job: int, last_job: int, rng: random.Random) -> None:
    """Jobs first_job .. last_job - 1, in batched inserts, a transaction per JOBS_PER_TRANSACTION jobs."""
    for start in range(first_job, last_job, JOBS_PER_TRANSACTION):
        end = min(start + JOBS_PER_TRANSACTION, last_job)
        with db.atomic():
            for chunk in range(start, end, JOBS_PER_STATEMENT):
                rows = [job_rows(j, rng) for j in range(chunk, min(chunk + JOBS_PER_STATEMENT, end))]
                Customer.insert_many([r[0] for r in rows], fields=CUSTOMER_FIELDS).execute()
                Job.insert_many([r[1] for r in rows], fields=JOB_FIELDS).execute()
                Event.insert_many([e for r in rows for e in r[2]], fields=EVENT_FIELDS).execute()
                Milestone.insert_many([m for r in rows for m in r[3]], fields=MILESTONE_FIELDS).execute()


def seed_falling_due(first_job: int, count: int, *, consented: bool = True) -> None:
    """`count` jobs whose "before" milestone fell due a second ago: their measurement is tomorrow. Their plans were
    sent, so each business's consent text to each phone was queued (and sent) then; not `consented`: it was not,
    as if the payment-due text were the first a business sends that phone."""
    for start in range(first_job, first_job + count, JOBS_PER_STATEMENT):
        chunk = range(start, min(start + JOBS_PER_STATEMENT, first_job + count))
        sent, measurement = NOW - 10 * DAY, NOW + DAY - timedelta(seconds=1)
        with db.atomic():
            Customer.insert_many([(j + 1, j % CONTRACTORS + 1, f"Customer {j}", f"+1415{2_000_000 + j:07d}",
                                   "America/New_York", sent) for j in chunk], fields=CUSTOMER_FIELDS).execute()
            if consented:
                OutboxMessage.insert_many([dict(
                    channel="sms", recipient=f"+1415{2_000_000 + j:07d}", body="(consent text)", kind="consent",
                    dedupe_key=f"consent:{j % CONTRACTORS + 1}:+1415{2_000_000 + j:07d}", state="sent",
                    next_attempt_at=sent, created_at=sent, sent_at=sent) for j in chunk]).execute()
            Job.insert_many([(j + 1, f"J-B{j:07d}", j % CONTRACTORS + 1, j + 1, "Kitchen countertops", "USD", "en_US",
                              "active", sent, sent) for j in chunk], fields=JOB_FIELDS).execute()
            LineItem.insert_many([dict(job=j + 1, position=0, description="Countertops", amount=400_000)
                                  for j in chunk]).execute()
            Payment.insert_many([dict(job=j + 1, amount=80_000, method="card", received_at=sent,
                                      actor="system:bench") for j in chunk]).execute()
            Event.insert_many([(3 * j + p + 1, j + 1, p, name, measurement + (days - 7) * DAY, "scheduled", None)
                               for j in chunk for p, (name, days) in enumerate(EVENTS)], fields=EVENT_FIELDS
                              ).execute()
            Milestone.insert_many([
                (4 * j + p + 1, j + 1, p, label, percent, kind, 3 * j + event + 1 if event is not None else None,
                 1440 if kind == "before" else 0, 0, amount, amount if p == 0 else 0,
                 sent if p == 0 else (NOW - timedelta(seconds=1) if p == 1 else None),
                 sent if p == 0 else None, 0, None)
                for j in chunk for p, (label, percent, kind, event, amount) in enumerate(TERMS)
            ], fields=MILESTONE_FIELDS).execute()


# --- measuring -------------------------------------------------------------------------------------

@contextmanager
def recording(database):
    """Collect (sql, params) of every statement the database runs meanwhile."""
    statements, execute_sql = [], database.execute_sql

    def record(sql, params=None, *args, **kwargs):
        statements.append((sql, params))
        return execute_sql(sql, params, *args, **kwargs)

    database.execute_sql = record
    try:
        yield statements
    finally:
        del database.execute_sql


def median_ms(step, scans: int) -> float:
    samples = []
    for _ in range(scans):
        started = time.perf_counter()
        step()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def print_plans(database, title: str, statements, analyze: bool = False) -> None:
    explain = ("EXPLAIN (ANALYZE, COSTS OFF)" if analyze else "EXPLAIN") if db.for_update else "EXPLAIN QUERY PLAN"
    for sql, params in statements:
        print(f"    {title}: {sql}  {list(params or ())}")
        for row in database.execute_sql(f"{explain} {sql}", params).fetchall():
            print(f"        {row[-1]}")


def measure(database, ctx: Context, milestones: int, scans: int, turns: int, explain: bool) -> None:
    found = turn(ctx)  # settles what the seeded state leaves (none expected), as a running worker would have
    assert not found.announced and not found.reminded, "the seeded data should have nothing due"
    announce = median_ms(lambda: announce_all_due(ctx), scans)
    wake = median_ms(lambda: next_moment(ctx.clock()), scans)
    whole = median_ms(lambda: turn(ctx), turns)
    day = median_ms(lambda: (forget_what_was_read(), warn_unpaid_before_events(ctx)), scans)
    window = Event.select().where(Event.state == "scheduled", Event.scheduled_at > NOW,
                                  Event.scheduled_at <= NOW + DAY).count()
    with recording(database) as loop:
        turn(ctx)
    print(f"  {milestones:>9,} milestones, nothing due: announce_all_due {announce:.2f} ms, "
          f"next_moment {wake:.2f} ms   (goal <= 20 ms and flat)")
    print(f"  {'':>9}   turn {whole:.1f} ms: {len(loop):,} statements   (goal <= 20 ms and flat)")
    print(f"  {'':>9}   the day-before warning's read of the whole next day (a process's first turn, then hourly): "
          f"{day:.1f} ms; {window:,} events start in the next 24 h")

    # The scan's own query when one milestone is due: the planner cannot know that none of the many
    # unannounced milestones is due, and may plan for thousands.
    with recording(database) as scan:
        announce_all_due(ctx)
    [(sql, params)] = scan
    one = (Milestone.select().where(Milestone.announced_at.is_null(), Milestone.due_at > NOW)
           .order_by(Milestone.due_at).get())
    Milestone.update(due_at=NOW - timedelta(minutes=1)).where(Milestone.id == one.id).execute()
    assert len(database.execute_sql(sql, params).fetchall()) == 1
    query = median_ms(lambda: database.execute_sql(sql, params).fetchall(), scans)
    print(f"  {'':>9}   announce_all_due's query when one milestone is due: {query:.2f} ms")
    if explain:
        print(f"  query plans at {milestones:,} milestones:")
        print_plans(database, "announce_all_due, one milestone due", scan, analyze=True)
    Milestone.update(due_at=one.due_at).where(Milestone.id == one.id).execute()
    if explain:
        for title, step in [("announce_all_due, nothing due", lambda: announce_all_due(ctx)),
                            ("remind_overdue", lambda: remind_overdue(ctx)),
                            ("warn_unpaid_before_events, a turn", lambda: warn_unpaid_before_events(ctx)),
                            ("warn_unpaid_before_events, the whole day",
                             lambda: (forget_what_was_read(), warn_unpaid_before_events(ctx))),
                            ("next_moment", lambda: next_moment(ctx.clock()))]:
            with recording(database) as statements:
                step()
            print_plans(database, title, statements, analyze=not title.startswith("remind"))


def bench(backend: str, database, sizes: list[int], scans: int, turns: int, due: int) -> None:
    ctx = Context(clock=FrozenClock(NOW), links=PaymentLinks("https://pay.example", "bench"))
    rng = random.Random(7)
    print(f"{backend}:")
    seed_contractors()
    jobs = 0
    for size in sizes:
        started = time.perf_counter()
        seed(jobs, size // 4, rng)
        jobs = size // 4
        after_seeding(database)
        print(f"  seeded up to {jobs:,} jobs, {size:,} milestones in {time.perf_counter() - started:.1f} s")
        measure(database, ctx, size, scans, turns, explain=size == sizes[-1])

    for title, announce, consented in [
        (f"announce_all_due (batches of {core_due.BATCH:,})", announce_all_due, True),
        ("before issue 11, a job at a time", announce_all_due_per_job, True),
        ("announce_all_due, again", announce_all_due, True),
        ("announce_all_due, each the first text to its phone (a consent text each too)", announce_all_due, False),
    ]:
        seed_falling_due(jobs, due, consented=consented)
        jobs += due
        after_seeding(database)
        queued_before = OutboxMessage.select().where(OutboxMessage.kind == "payment_due").count()
        with recording(database) as statements:
            started, cpu = time.perf_counter(), time.process_time()
            announced = announce(ctx)
            took, cpu = time.perf_counter() - started, time.process_time() - cpu
        queued = OutboxMessage.select().where(OutboxMessage.kind == "payment_due").count() - queued_before
        assert len(announced) == due and queued == due, (len(announced), queued)
        print(f"  {due:,} milestones falling due at once (with {sizes[-1]:,} others), {title}: queued {queued:,} "
              f"texts in {took:.2f} s ({took / due * 1000:.3f} ms each; this process's CPU {cpu:.2f} s; "
              f"{len(statements):,} statements)   (goal <= 5 s)")


def announce_all_due_per_job(ctx: Context) -> list[int]:
    """The announcing before issue 11, for comparison: a transaction per job, a conditional UPDATE per milestone, a
    full job view per job, each text queued on its own after a look for its consent text."""
    now = ctx.clock()
    job_ids = [job_id for (job_id,) in Milestone.select(Milestone.job).where(
        Milestone.announced_at.is_null(), Milestone.due_at <= now, Milestone.paid < Milestone.amount
    ).distinct().tuples()]
    announced = []
    for job in list(Job.select().where(Job.id.in_(job_ids))) if job_ids else []:
        with db.atomic():
            candidates = Milestone.select(Milestone.id).where(
                Milestone.job == job, Milestone.announced_at.is_null(), Milestone.due_at <= now,
                Milestone.paid < Milestone.amount)
            policy = ctx.reminders
            first_reminder = now + policy.first if policy.most else None
            claimed = [m.id for m in candidates
                       if Milestone.update(announced_at=now, next_reminder_at=first_reminder)
                       .where(Milestone.id == m.id, Milestone.announced_at.is_null()).execute()]
            if claimed:
                view = job_view(job, now)
                link = ctx.links.url(job.ref, now)
                for milestone in view.milestones:
                    if milestone.id in claimed:
                        text_customer(job.customer, job, "payment_due",
                                      customer_texts.payment_due(view, milestone, link),
                                      key=f"milestone:{milestone.id}:due", now=now)
            announced += claimed
    return announced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--scans", type=int, default=50)
    parser.add_argument("--turns", type=int, default=5, help="whole turns timed (slower: fewer)")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--due", type=int, default=10_000, help="milestones falling due at once")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as folder, bench_database(backend, args.postgres_url, folder) as database:
            bench(backend, database, sizes, args.scans, args.turns, args.due)


if __name__ == "__main__":
    main()
