"""Stripe webhook benchmark: signed checkout events through waitress, side by side with a bare Flask route.

    .venv/bin/python bench/stripe_webhook.py [--database sqlite|postgres] [--jobs 100000] [--checkouts 1000]
        [--bank 0.1] [--duplicates 0.1] [--out-of-order 0.1] [--connections 8] [--apart 200]
        [--postgres-url postgresql://postgres@127.0.0.1:5432]

Issue 8: 1,000 signed checkout.session.completed deliveries (10% duplicates, 10% out of order) against 100,000
seeded jobs; every payment recorded exactly once; throughput and p99 per delivery, beside a bare Flask route in
the same run, as bench/sms_webhook.py measures the SMS webhook. The issue sets no figure to meet.

Setup, not timed: the jobs are seeded as bench/core_bench.py seeds them (a sent plan of $4,000: the $1,000
deposit paid, $1,000 after the removal and $2,000 after the installation, neither done; their contractor has a
chat with the bot, so a payment also queues the contractor's note) in a private database
(tests/databases.py; on PostgreSQL a `paystage_bench_stripe_<random>` database, ANALYZEd as autovacuum would,
dropped at the end). For each round, `--checkouts` jobs drawn at random get a checkout the way a customer's tap
on Pay makes one: core.checkout.start_checkout with the real StripeGateway, which asks the local Stripe
(sandbox/, real HTTP in this process) for the session. Half pay the next payment ($1,000), half the whole
balance ($3,000). The customer then pays at its hosted page, by card, or for `--bank` of them by bank
transfer, which it then settles: so the events are the local Stripe's own, as Stripe shapes them
(checkout.session.completed with payment_status paid, amount_total, payment_intent and our metadata; for a bank
transfer completed with payment_status unpaid, then checkout.session.async_payment_succeeded). No endpoint is
registered there: this process delivers them itself, pretty-printed as Stripe sends them, each signed
with sandbox.stripe_api.sign just before its round starts (construct_event allows 5 minutes).

The deliveries of a round: every event once, in the order it happened (the settlements last, as a bank takes
days), then `--out-of-order` of the positions shuffled among themselves (which can put a settlement ahead of its
session's completed event), then `--duplicates` of the events sent a second time, each at a random later
position (Stripe's retry). With the defaults: 1,100 events, 1,210 deliveries.

One waitress server in a subprocess, built by paystage.app.web_server (what `paystage run` and `paystage web`
serve with: waitress's 4 threads, the body cap), serves through werkzeug's DispatcherMiddleware the real app
(sms.app.create_app with Stripe payments on) and two bare Flask apps: /bare/ answers 200 with no body and reads
nothing, /signature/ only checks the signature as the real route does (sms.stripe_gateway.verified_event). Each
route is sent the same deliveries with the same headers by the same client, over keep-alive http.client
connections (bench/sms_webhook.py's), in rounds: a warm-up of 50 checkouts (checked, not reported), one delivery
at a time on one connection, then `--connections` at once. Latency is from sending a delivery to the end of its
answer. Every answer must be 200.

With the server stopped, `--apart` more card payments' events are applied in this process (apply_news, what the
route calls after the signature check) and the time of each taken apart around peewee's Database methods:
building the SQL, the database running it, BEGIN and COMMIT, and the rest; then each again, as a duplicate.

Then exactly once, over every checkout of every round and those: each checkout paid, with the local
Stripe's PaymentIntent; one Payment per PaymentIntent, of the checkout's amount, on the checkout's job, and no other
payment written; what the milestones were paid adds up to the money received; one event record per event id;
one receipt text and one note to the contractor per payment.
"""

import argparse
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.core_bench import NOW, seed  # noqa: E402
from bench.sms_webhook import Connection, CpuUse, cpu_seconds, run_threads, start_server  # noqa: E402

PUBLIC = "https://pay.example"
LINK_SECRET = "bench-link-secret"
WEBHOOK_SECRET = "whsec_bench0123456789abcdefghijklmnopq"
REAL, SIGNATURE, BARE = "/stripe/webhook", "/signature/", "/bare/"
ROUTES = {REAL: "real", SIGNATURE: "signature check only", BARE: "bare"}
WARM_UP = 50
DEPOSIT = 100_000  # what bench/core_bench.py seeds as paid on every job


# --- the server (a subprocess) ---------------------------------------------------------------------------------


def serve(database_url: str) -> None:
    """Serve the real app and the two bare routes on one waitress server; print its port."""
    from flask import Flask, request
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from core.clock import FrozenClock
    from core.context import Context
    from core.links import PaymentLinks
    from paystage.app import web_server
    from sms.app import create_app
    from sms.payments import OnlinePayments
    from sms.stripe_gateway import StripeGateway, verified_event
    from storage.database import open_database

    logging.basicConfig(level=logging.WARNING, format="server %(levelname)s %(name)s: %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a queue is the point of the concurrent round
    open_database(database_url)
    ctx = Context(clock=FrozenClock(NOW), links=PaymentLinks(PUBLIC, LINK_SECRET))
    # the webhook never calls Stripe: the gateway is there because the app takes payments only with one
    payments = OnlinePayments(gateway=StripeGateway("sk_test_unused", api_base_url="http://127.0.0.1:9"),
                              webhook_secrets=(WEBHOOK_SECRET,), bank_first_above=100_000, connect=False,
                              checkout_origin="http://127.0.0.1:9")
    real = create_app(ctx, public_base_url=PUBLIC, twilio_auth_token=None, payments=payments)

    bare = Flask("bare")

    @bare.post("/")
    def acknowledge():
        return "", 200

    signature = Flask("signature")

    @signature.post("/")
    def check_signature():
        try:
            verified_event(request.get_data(), request.headers.get("Stripe-Signature", ""), (WEBHOOK_SECRET,))
        except ValueError:
            return "", 400
        return "", 200

    server = web_server(DispatcherMiddleware(real, {"/bare": bare, "/signature": signature}), "127.0.0.1", 0)
    print(server.effective_port, flush=True)
    server.run()


# --- setup: checkouts, paid at the local Stripe ----------------------------------------------------------------


@dataclass
class Paid:
    """A checkout the benchmark made and paid at the local Stripe: what the database must show afterwards."""

    checkout_id: int
    job_id: int
    amount: int
    method: str  # card, bank
    payment_intent: str = ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def make_checkouts(ctx, api, refs: list[str], bank: float) -> list[Paid]:
    """A checkout for each job, made as a tap on Pay makes it, then paid at the local Stripe (and settled)."""
    from core.checkout import start_checkout
    from sms.stripe_gateway import StripeGateway
    from storage.models import Checkout, Job

    gateway = StripeGateway(api.secret_key, api_base_url=api.base_url)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)
    banks = round(len(refs) * bank)
    made = []
    for n, ref in enumerate(refs):
        choice, method = ("next" if n % 2 else "all"), ("bank" if n < banks else "card")
        page = f"{PUBLIC}/p/{ctx.links.token(ref, ctx.clock())}"
        url = start_checkout(ctx, gateway, ref, choice, method, page_url=page)
        row = Checkout.select().join(Job).where(Job.ref == ref).order_by(Checkout.id.desc()).first()
        made.append(Paid(row.id, row.job_id, row.amount, method))
        form = f"method={'us_bank_account' if method == 'bank' else 'card'}".encode()
        try:
            opener.open(urllib.request.Request(f"{url}/pay", data=form), timeout=10)
            raise RuntimeError(f"the local Stripe's checkout page did not send {ref}'s customer back")
        except urllib.error.HTTPError as answer:  # the 303 back to the page
            answer.close()
            if answer.code != 303:
                raise
        session = api.object(row.session_id)
        made[-1].payment_intent = session["payment_intent"]
        if method == "bank":
            api.settle_bank(row.session_id, succeed=True)
    return made


# --- the deliveries --------------------------------------------------------------------------------------------

PAID, PROCESSING, SETTLED, DUPLICATE = (
    "completed, paid", "completed, unpaid (bank)", "async_payment_succeeded", "duplicate")


@dataclass
class Delivery:
    event_id: str
    kind: str  # one of the four above
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def deliveries_of(events: list[dict], rng: random.Random, duplicates: float, out_of_order: float) -> list[Delivery]:
    """Every event once in the order it happened, `out_of_order` of the positions shuffled, `duplicates` again."""
    events = ([e for e in events if e["type"] == "checkout.session.completed"]
              + [e for e in events if e["type"] != "checkout.session.completed"])  # a bank settles days later
    order = list(range(len(events)))
    moved = sorted(rng.sample(order, round(len(order) * out_of_order)))
    shuffled = moved[:]
    rng.shuffle(shuffled)
    for position, index in zip(moved, shuffled):
        order[position] = index
    deliveries = []
    for index in order:
        event = events[index]
        kind = (SETTLED if event["type"] != "checkout.session.completed" else
                PAID if event["data"]["object"]["payment_status"] == "paid" else PROCESSING)
        deliveries.append(Delivery(event["id"], kind, json.dumps(event, indent=2).encode()))  # as Stripe sends
    for original in rng.sample(list(deliveries), round(len(events) * duplicates)):
        later = rng.randint(deliveries.index(original) + 1, len(deliveries))
        deliveries.insert(later, Delivery(original.event_id, DUPLICATE, original.body))
    return deliveries


def settled_first(deliveries: list[Delivery], events: list[dict]) -> int:
    """How many settlements are delivered (first) before their session's completed event."""
    session_of = {e["id"]: e["data"]["object"]["id"] for e in events}
    seen, early = set(), 0
    for d in deliveries:
        if d.kind == SETTLED and session_of[d.event_id] not in seen:
            early += 1
        if d.kind in (PAID, PROCESSING):
            seen.add(session_of[d.event_id])
    return early


def sign_all(deliveries: list[Delivery]) -> None:
    from sandbox.stripe_api import sign

    now = int(time.time())
    for d in deliveries:
        d.headers = {"Content-Type": "application/json; charset=utf-8",
                     "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                     "Stripe-Signature": sign(d.body, WEBHOOK_SECRET, now)}


# --- the client ------------------------------------------------------------------------------------------------


def send(port: int, path: str, deliveries: list[Delivery], connections: int) -> tuple[list[float], list[str], float]:
    """Every delivery, in order, over `connections` at once; (latency of each in ms, failures, seconds in all)."""
    latencies, failures = [0.0] * len(deliveries), []
    lock, upcoming = threading.Lock(), iter(range(len(deliveries)))

    def worker(k: int) -> None:
        connection = Connection(port)
        while True:
            with lock:
                i = next(upcoming, None)
            if i is None:
                break
            d = deliveries[i]
            sent = time.perf_counter()
            status, data = connection.post(path, d.body, d.headers)
            latencies[i] = (time.perf_counter() - sent) * 1000
            if status != 200:
                with lock:
                    failures.append(f"{path} {d.event_id} ({d.kind}): HTTP {status} {data[:200]!r}")
        connection.close()

    started = time.perf_counter()
    run_threads(worker, connections)
    return latencies, failures, time.perf_counter() - started


def postgres_cpu() -> float:
    """CPU seconds used so far by every PostgreSQL process (the server's backends do the real route's queries)."""
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "postgres":
                total += cpu_seconds(pid)
        except OSError:  # it ended meanwhile
            pass
    return total


def figures(latencies: list[float]) -> str:
    samples = sorted(latencies)
    p99 = samples[max(int(len(samples) * 0.99) - 1, 0)]
    return f"p50 {statistics.median(samples):.1f} ms, p99 {p99:.1f} ms, max {samples[-1]:.1f} ms"


def run_round(port: int, server_pid: int, deliveries: list[Delivery], connections: int, report: bool,
              postgres: bool) -> list[str]:
    """The same deliveries to each route; prints the figures when `report`; returns the failures."""
    sign_all(deliveries)
    failures, rates = [], {}
    for path in (REAL, SIGNATURE, BARE):
        cpu, database_cpu = CpuUse(server_pid), postgres_cpu()
        latencies, failed, elapsed = send(port, path, deliveries, connections)
        failures += failed
        rates[path] = len(deliveries) / elapsed
        if report:
            database_cpu = (postgres_cpu() - database_cpu) / elapsed
            print(f"  {path} ({ROUTES[path]}): {rates[path]:,.0f} deliveries/s, {figures(latencies)}; {cpu}"
                  + (f" (of which PostgreSQL {database_cpu:.2f})" if postgres else ""))
            if path == REAL:
                for kind in (PAID, PROCESSING, SETTLED, DUPLICATE):
                    of_kind = [t for t, d in zip(latencies, deliveries) if d.kind == kind]
                    if of_kind:
                        print(f"      {kind}: {len(of_kind):,} deliveries, {figures(of_kind)}")
    if report:
        print(f"  throughput of {REAL} / {BARE}: {rates[REAL] / rates[BARE]:.0%}; "
              f"/ {SIGNATURE}: {rates[REAL] / rates[SIGNATURE]:.0%}")
    for failure in failures[:3]:
        print(f"  failed: {failure}")
    return failures


# --- where the time goes --------------------------------------------------------------------------------------


def where_time_goes(ctx, database, events: list[dict]) -> None:
    """The real route's work without HTTP: apply_news for each event in this process, its time taken apart.

    Timed around peewee's Database methods: execute (building a query's SQL, then execute_sql), execute_sql (the
    database runs it and hands back a cursor), begin and commit. What is left is reading rows into models and the
    use case's own code (the job's view, the receipt and the note).
    """
    from core.provider_events import apply_news
    from sms.stripe_gateway import news_of

    spent, statements = Counter(), Counter()

    def timed(name: str, method):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
                statements[name] += 1
        return wrapper

    methods = {name: getattr(database, name) for name in ("execute", "execute_sql", "begin", "commit")}
    for name, method in methods.items():
        setattr(database, name, timed(name, method))
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        for event in events:
            assert apply_news(ctx, news_of(event)) == "paid"
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        again = time.perf_counter()
        for event in events:
            assert apply_news(ctx, news_of(event)) == "duplicate"
        again = time.perf_counter() - again
    finally:
        for name in methods:
            delattr(database, name)  # the class's methods again
    n = len(events)

    def ms(seconds: float) -> str:
        return f"{seconds * 1000 / n:.2f} ms"

    building = spent["execute"] - spent["execute_sql"]
    rest = wall - building - spent["execute_sql"] - spent["begin"] - spent["commit"]
    print(f"where the time goes, in this process without HTTP: {n:,} more paid events (card) through apply_news: "
          f"{ms(wall)} each (CPU {ms(cpu)}), in {statements['execute_sql'] / n:.1f} statements:")
    print(f"  peewee building the SQL {ms(building)}; the database running it {ms(spent['execute_sql'])}; "
          f"BEGIN {ms(spent['begin'])}; COMMIT {ms(spent['commit'])}; the rest (rows into models, the view, the texts)"
          f" {ms(rest)}")
    print(f"  the same events again (duplicates): {ms(again)} each")


# --- exactly once ----------------------------------------------------------------------------------------------


def exactly_once(paid: list[Paid], jobs: int, events: int) -> list[str]:
    """What is wrong in the database after every round; prints what it checked."""
    from peewee import fn

    from storage.models import Checkout, Milestone, OutboxMessage, Payment, PaymentPart, ProviderEvent

    problems = []

    def expect(what: str, found, wanted) -> None:
        print(f"  {what}: {found:,}" + ("" if found == wanted else f"   (expected {wanted:,})"))
        if found != wanted:
            problems.append(f"{what}: {found} instead of {wanted}")

    by_checkout = {p.checkout_id: p for p in paid}
    rows = {c.id: c for c in Checkout.select().where(Checkout.id.in_(list(by_checkout)))}
    expect("checkouts paid, with the local Stripe's PaymentIntent",
           sum(1 for p in paid if (rows[p.checkout_id].state, rows[p.checkout_id].payment_intent)
               == ("paid", p.payment_intent)), len(paid))
    payments = {p.reference: p for p in Payment.select().where(Payment.reference.is_null(False))}
    expect("payments with a provider reference", len(payments), len(paid))
    expect("distinct PaymentIntents among them", len({p.payment_intent for p in paid} & set(payments)), len(paid))
    expect("of them, of the checkout's amount and on its job", sum(
        1 for p in paid if (r := payments.get(p.payment_intent)) and r.amount == p.amount and r.job_id == p.job_id
    ), len(paid))
    expect("payments in all (the seeded deposits and these)", Payment.select().count(), jobs + len(paid))
    received = sum(p.amount for p in paid)
    expect("money received through the webhook, in cents", int(Payment.select(fn.SUM(Payment.amount))
                                                                .where(Payment.reference.is_null(False)).scalar()),
           received)
    expect("paid on milestones in all, in cents", int(Milestone.select(fn.SUM(Milestone.paid)).scalar()),
           DEPOSIT * jobs + received)
    expect("paid on milestones by these payments (their parts), in cents",
           int(PaymentPart.select(fn.SUM(PaymentPart.amount)).join(Payment)
               .where(Payment.reference.is_null(False)).scalar() or 0), received)
    jobs_paid = Counter(job for (job,) in Payment.select(Payment.job).where(Payment.reference.is_null(False)).tuples())
    paid_on = dict(Milestone.select(Milestone.job, fn.SUM(Milestone.paid)).where(
        Milestone.job.in_([p.job_id for p in paid])).group_by(Milestone.job).tuples())
    expect("jobs with one payment and their milestones paid the deposit and the checkout's amount",
           sum(1 for p in paid if jobs_paid[p.job_id] == 1 and int(paid_on[p.job_id]) == DEPOSIT + p.amount),
           len(paid))
    expect("event records", ProviderEvent.select().count(), events)
    expect("receipt texts queued", OutboxMessage.select().where(OutboxMessage.kind == "receipt").count(), len(paid))
    expect("payment notes to the contractor queued",
           OutboxMessage.select().where(OutboxMessage.kind == "payment_received").count(), len(paid))
    outcomes = Counter(kind for (kind,) in ProviderEvent.select(ProviderEvent.outcome).tuples())
    print(f"  what the events did: {dict(sorted(outcomes.items()))}")
    return problems


# --- the run ---------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--checkouts", type=int, default=1_000, help="per round")
    parser.add_argument("--bank", type=float, default=0.1, help="share paid by bank transfer")
    parser.add_argument("--duplicates", type=float, default=0.1)
    parser.add_argument("--out-of-order", type=float, default=0.1)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--apart", type=int, default=200, help="paid events applied in this process, timed apart")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--serve", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)

    from core.clock import FrozenClock
    from core.context import Context
    from core.links import PaymentLinks
    from sandbox import LocalStripeAPI
    from storage.database import open_database, upgrade
    from storage.models import Contractor, db
    from tests.databases import private_database

    rng = random.Random(8)
    rounds = [("warm-up", WARM_UP, 1), ("one delivery at a time", args.checkouts, 1),
              (f"{args.connections} connections at once", args.checkouts, args.connections)]
    with tempfile.TemporaryDirectory() as folder, \
            private_database(args.database, Path(folder) / "bench.sqlite3", "paystage_bench_stripe",
                             args.postgres_url) as url:
        database = open_database(url)
        upgrade(database)
        started = time.perf_counter()
        seed(args.jobs)
        # the contractor has a chat with the bot, so each payment also queues their note ("... paid $1,000.00")
        Contractor.update(telegram_id=1_000_001).execute()
        if args.database == "postgres":
            database.execute_sql("ANALYZE")
        print(f"{args.database}: seeded {args.jobs:,} jobs in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        ctx = Context(clock=FrozenClock(NOW), links=PaymentLinks(PUBLIC, LINK_SECRET))
        numbers = rng.sample(range(args.jobs), sum(count for _, count, _ in rounds) + args.apart)
        plan, paid, events, apart = [], [], 0, []
        with LocalStripeAPI() as api:
            api.clock = NOW.timestamp  # the checkouts are made at the seeded data's moment, and expire an hour later
            for name, count, connections in rounds:
                refs, numbers = [f"J-B{n:07d}" for n in numbers[:count]], numbers[count:]
                before = len(api.events)
                made = make_checkouts(ctx, api, refs, args.bank)
                made_events = api.events[before:]
                plan.append((name, connections, made_events,
                             deliveries_of(made_events, rng, args.duplicates, args.out_of_order)))
                paid += made
                events += len(made_events)
            if args.apart:
                refs = [f"J-B{n:07d}" for n in numbers[:args.apart]]
                before = len(api.events)
                paid += make_checkouts(ctx, api, refs, bank=0)
                apart = api.events[before:]
                events += len(apart)
        database.close()
        print(f"made and paid {len(paid):,} checkouts through start_checkout and the local Stripe in "
              f"{time.perf_counter() - started:.1f} s")

        server, port = start_server(url, __file__)
        failures = []
        try:
            print(f"waitress (paystage.app.web_server, 4 threads) on 127.0.0.1:{port} (pid {server.pid}): real app at "
                  f"{REAL}, {ROUTES[SIGNATURE]} at {SIGNATURE}, {ROUTES[BARE]} Flask app at {BARE}")
            for name, connections, made_events, deliveries in plan:
                kinds = Counter(d.kind for d in deliveries)
                if name != "warm-up":
                    print(f"{name}: {len(deliveries):,} deliveries of {len(made_events):,} events "
                          f"({', '.join(f'{n:,} {k}' for k, n in kinds.items())}; "
                          f"{round(len(made_events) * args.out_of_order):,} moved out of order, "
                          f"{settled_first(deliveries, made_events)} settlements before their completed event)")
                failures += run_round(port, server.pid, deliveries, connections, report=name != "warm-up",
                                      postgres=args.database == "postgres")
        finally:
            server.terminate()
            server.wait(timeout=10)

        database = open_database(url)
        if apart:
            where_time_goes(ctx, database, apart)
        print(f"exactly once, over all {len(paid):,} checkouts (warm-up and the timed-apart ones included):")
        problems = exactly_once(paid, args.jobs, events)
        db.close()
        print(f"failed answers: {len(failures)}; exactly-once problems: {len(problems)}")
        if failures or problems:
            sys.exit(1)


if __name__ == "__main__":
    main()
