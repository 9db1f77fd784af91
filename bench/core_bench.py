"""Core benchmark: recalculations per second, and the customer-status use case with 100,000 jobs in SQLite.

    .venv/bin/python bench/core_bench.py [--jobs 100000] [--lookups 2000]

Goals (issue 2): >= 20,000 recalculations/s for a 10-milestone plan with some
paid, on one core; customer status (what a customer's BAL text asks) median
<= 2 ms with 100,000 jobs seeded.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.allocation import Slot, recalculate  # noqa: E402
from core.clock import FrozenClock  # noqa: E402
from core.context import Context  # noqa: E402
from core.jobs import jobs_on_phone  # noqa: E402
from core.links import PaymentLinks  # noqa: E402
from storage.database import open_database, upgrade  # noqa: E402
from storage.models import Contractor, Customer, Event, Job, LineItem, Milestone, Payment, PaymentPart, db  # noqa: E402

NOW = datetime(2026, 12, 1, 15, tzinfo=timezone.utc)


def bench_recalculate(seconds: float = 2.0) -> float:
    percents = [1000] * 10
    amounts = [100_000] * 10
    slots = [Slot(p, None, a, a if i < 4 else (50_000 if i == 4 else 0))
             for i, (p, a) in enumerate(zip(percents, amounts))]
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for total in range(1_200_000, 1_200_100):
            recalculate(total, slots)
        count += 100
    return count / (time.perf_counter() - started)


def seed(jobs: int) -> list[str]:
    """`jobs` jobs, each with its own customer, 3 events, 3 milestones, one line item and one payment (the deposit)."""
    contractor = Contractor.create(business_name="Bench Co", timezone="America/New_York", currency="USD",
                                   locale="en_US", created_at=NOW)
    phones = [f"+1415{n:07d}" for n in range(jobs)]
    batch = 2_000
    for start in range(0, jobs, batch):
        chunk = range(start, min(start + batch, jobs))
        with db.atomic():
            Customer.insert_many([dict(contractor=contractor.id, name=f"Customer {n}", phone=phones[n],
                                       timezone="America/New_York", created_at=NOW) for n in chunk]).execute()
            first_customer = Customer.select(Customer.id).where(Customer.phone == phones[start]).scalar()
            Job.insert_many([dict(ref=f"J-B{n:07d}", contractor=contractor.id, customer=first_customer + i,
                                  title="Kitchen countertops", currency="USD", locale="en_US",
                                  plan_sent_at=NOW, created_at=NOW) for i, n in enumerate(chunk)]).execute()
            first_job = Job.select(Job.id).where(Job.ref == f"J-B{start:07d}").scalar()
            job_ids = [first_job + i for i in range(len(chunk))]
            LineItem.insert_many([dict(job=j, position=0, description="Countertops", amount=400_000)
                                  for j in job_ids]).execute()
            Event.insert_many([dict(job=j, position=p, name=name, scheduled_at=NOW + timedelta(days=2 + 7 * p))
                               for j in job_ids for p, name in enumerate(["Measurement", "Removal", "Installation"])
                               ]).execute()
            event_ids = dict(((e.job_id, e.position), e.id) for e in
                             Event.select(Event.id, Event.job, Event.position).where(Event.job.in_(job_ids)))
            Milestone.insert_many([
                dict(job=j, position=p, label=label, percent=pc, trigger_kind=kind, amount=amount,
                     event=event_ids[(j, p)] if kind == "after" else None,
                     paid=amount if p == 0 else 0, due_at=NOW if p == 0 else None,
                     announced_at=NOW if p == 0 else None)
                for j in job_ids
                for p, (label, pc, kind, amount) in enumerate([("Deposit", 2500, "now", 100_000),
                                                               ("After Removal", 2500, "after", 100_000),
                                                               ("After Installation", 5000, "after", 200_000)])
            ]).execute()
            Payment.insert_many([dict(job=j, amount=100_000, method="card", received_at=NOW, actor="system:bench")
                                 for j in job_ids]).execute()
            # what the deposit paid, as record_payment keeps it: a payment without its part would count as
            # unapplied money the next time a payment is applied on the job (bench/stripe_webhook.py records some)
            PaymentPart.insert_from(
                Payment.select(Payment.id, Milestone.id, Payment.amount)
                .join(Milestone, on=(Milestone.job == Payment.job) & (Milestone.position == 0))
                .where(Payment.job.in_(job_ids)),
                fields=[PaymentPart.payment, PaymentPart.milestone, PaymentPart.amount]).execute()
    return phones


def bench_status(phones: list[str], lookups: int) -> tuple[float, float]:
    ctx = Context(clock=FrozenClock(NOW), links=PaymentLinks("https://pay.example", "bench"))
    samples = []
    rng = random.Random(7)
    for _ in range(lookups):
        phone = rng.choice(phones)
        started = time.perf_counter()
        [view] = jobs_on_phone(ctx, phone)
        assert view.paid == 100_000 and view.remaining == 300_000
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    args = parser.parse_args()

    rate = bench_recalculate()
    print(f"recalculate, 10 milestones (4 paid, 1 partly): {rate:,.0f}/s   (goal >= 20,000/s)")

    with tempfile.TemporaryDirectory() as folder:
        database = open_database(f"sqlite:///{folder}/bench.sqlite3")
        upgrade(database)
        started = time.perf_counter()
        phones = seed(args.jobs)
        print(f"seeded {args.jobs:,} jobs in {time.perf_counter() - started:.1f} s")
        median, p99 = bench_status(phones, args.lookups)
        print(f"customer status ({args.lookups:,} lookups by phone): median {median:.2f} ms, p99 {p99:.2f} ms"
              "   (goal median <= 2 ms)")


if __name__ == "__main__":
    main()
