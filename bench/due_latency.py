"""Due latency: from an event marked done to its payment-due text arriving at Twilio (the local one), 1,000 events.

    .venv/bin/python bench/due_latency.py [--backends sqlite,postgresql] [--connections keep-alive]
        [--events 1000] [--gaps 0.05,0] [--postgres-url postgresql://postgres@127.0.0.1:5432]

Goals (issue 11): p99 <= 100 ms from the moment `core.events.mark_event_done` is called to the SMS request
arriving at the Twilio Messages API with events 50 ms apart; p99 <= 500 ms back to back (issue 3's goal).

A real `paystage.worker.Worker` runs in this process: its APScheduler loop and its dispatcher thread (polling the
outbox every 0.2 s, and woken when a transaction that queued a text commits). Its Dispatcher sends through the real
`TwilioSender` to a LocalTwilioAPI on 127.0.0.1 (real HTTP; it records when each request arrived), with pacing and
quiet hours off. The local Twilio keeps connections open between texts as Twilio does (`--connections close`: it
closes each after its answer, as it did before issue 11). The main thread marks one job's Installation done after
another, the way a contractor's /done does it: once 50 ms apart (a steady 20 events a second), once back to back
(as fast as one thread can mark them).
Each job has its own customer, so an arrival is matched to its event by the recipient.

On a SQLite file (a temporary one), or in a PostgreSQL database of its own, `paystage_bench_latency_<random>` on
--postgres-url's server, dropped at the end.
"""

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.clock import system_clock  # noqa: E402
from core.context import Actor, Context  # noqa: E402
from core.delivery import LoggingSender  # noqa: E402
from core.dispatcher import DeliveryPolicy, Dispatcher  # noqa: E402
from core.events import add_event, mark_event_done  # noqa: E402
from core.jobs import Item, create_job, register_contractor  # noqa: E402
from core.links import PaymentLinks  # noqa: E402
from core.plans import send_plan, set_plan  # noqa: E402
from core.quiet_hours import QuietHours  # noqa: E402
from paystage.worker import Worker  # noqa: E402
from sandbox import LocalTwilioAPI  # noqa: E402
from sms.sender import TwilioSender  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from tests.databases import migrated_database  # noqa: E402

PLAN = "25% now, 75% after installation"  # sending it queues two texts a job: the plan and the deposit


def seed(ctx: Context, events: int) -> tuple[Actor, list[tuple[str, str]]]:
    """`events` jobs with the plan sent, each with its own customer; returns (contractor, [(ref, phone)])."""
    actor = Actor.contractor(register_contractor(ctx, business_name="Bench Stone & Tile").id)
    jobs = []
    for n in range(events):
        phone = f"+1415{2_000_000 + n:07d}"
        job = create_job(ctx, actor, customer_name=f"Customer {n}", phone=phone, title="Kitchen countertops",
                         items=[Item("Kitchen countertops", 400_000)])
        add_event(ctx, actor, job.ref, "Installation", ctx.clock() + timedelta(days=7))
        set_plan(ctx, actor, job.ref, PLAN)
        send_plan(ctx, actor, job.ref)
        jobs.append((job.ref, phone))
    return actor, jobs


def percentile(ordered: list[float], share: float) -> float:
    return ordered[max(0, int(len(ordered) * share) - 1)]


def run(api: LocalTwilioAPI, ctx: Context, actor: Actor, jobs: list[tuple[str, str]], gap: float) -> None:
    """Mark each job's event done, `gap` seconds apart, and print how long each text took to reach the local Twilio."""
    before = len(api.messages)
    marked_at, marking = {}, []
    for ref, phone in jobs:
        time.sleep(gap)
        marked_at[phone] = time.time()
        started = time.perf_counter()
        mark_event_done(ctx, actor, ref, "Installation")
        marking.append((time.perf_counter() - started) * 1000)
    marking_ended = time.time()
    arrived = api.wait_for(before + len(jobs), timeout=120)[before:]

    assert len(arrived) == len(jobs) and all("is now due" in m["body"] for m in arrived), "unexpected texts"
    latencies = sorted((m["received_at"].timestamp() - marked_at[m["to"]]) * 1000 for m in arrived)
    during = sum(m["received_at"].timestamp() < marking_ended for m in arrived)
    marking.sort()
    print(f"{len(jobs):,} events {gap * 1000:g} ms apart: mark_event_done median {statistics.median(marking):.1f} ms, "
          f"p99 {percentile(marking, 0.99):.1f} ms; {during:,} of the texts arrived while events were being marked")
    print(f"  event marked done -> SMS at the local Twilio API: p50 {statistics.median(latencies):.0f} ms, "
          f"p99 {percentile(latencies, 0.99):.0f} ms, max {latencies[-1]:.0f} ms   "
          f"(goal p99 <= {100 if gap else 500} ms)")


def bench(backend: str, postgres_url: str, keep_alive: bool, events: int, gaps: list[float]) -> None:
    print(f"{backend}, connections {'keep-alive' if keep_alive else 'close'}:")
    kind = "sqlite" if backend == "sqlite" else "postgres"
    ctx = Context(clock=system_clock, links=PaymentLinks("https://pay.example", "bench"))
    with (tempfile.TemporaryDirectory() as folder,
          migrated_database(kind, Path(folder), "paystage_bench_latency", postgres_url),
          LocalTwilioAPI(keep_alive=keep_alive) as api):
        started = time.perf_counter()
        actor, jobs = seed(ctx, events * len(gaps))
        seeded = OutboxMessage.select().where(OutboxMessage.channel == "sms").count()
        print(f"seeded {len(jobs):,} jobs with sent plans in {time.perf_counter() - started:.1f} s")

        sender = TwilioSender(api.account_sid, api.auth_token, from_number="+15005550006", api_base_url=api.base_url)
        policy = DeliveryPolicy(sms_interval=None, quiet_hours=QuietHours.parse("off"))
        dispatcher = Dispatcher(system_clock, {"sms": sender, "telegram": LoggingSender("telegram")}, policy,
                                sms_sender_id="+15005550006")
        worker = Worker(ctx, dispatcher)
        worker.start()
        try:
            # the worker first sends the consent texts, plans and deposits that seeding queued; the events come after
            started = time.perf_counter()
            api.wait_for(seeded, timeout=600)
            took = time.perf_counter() - started
            print(f"the worker sent the {seeded:,} texts seeding queued in {took:.1f} s")
            for n, gap in enumerate(gaps):
                run(api, ctx, actor, jobs[n * events:(n + 1) * events], gap)
        finally:
            worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--connections", default="keep-alive",
                        help="keep-alive: the local Twilio keeps connections open, as Twilio does; close: one a text")
    parser.add_argument("--events", type=int, default=1_000, help="events marked done per gap")
    parser.add_argument("--gaps", default="0.05,0", help="seconds between two events marked done, one run each")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        for connections in args.connections.split(","):
            bench(backend, args.postgres_url, connections == "keep-alive", args.events,
                  [float(g) for g in args.gaps.split(",")])


if __name__ == "__main__":
    main()
